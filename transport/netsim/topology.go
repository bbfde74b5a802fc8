package netsim

import (
	"fmt"
	"time"
)

// Partition splits the network: nodes in different groups can no longer
// exchange messages, in either direction, and nodes named in no group form
// one more group together. It replaces any earlier partition (Heal
// removes it) and leaves Disconnect and CutLink alone: a message passes
// only if nothing stands between its two nodes, both when it is sent and
// when it arrives, so messages already in flight across the new cut are
// lost too. Conns that cross the cut stay open, and silent.
//
// Partition panics if a node is named twice or a name is empty: that is a
// mistake in the test, not in the code under test.
func (n *Network) Partition(groups ...[]string) {
	g := make(map[string]int)
	for i, group := range groups {
		for _, name := range group {
			mustNode(name)
			if _, dup := g[name]; dup {
				panic(fmt.Sprintf("netsim: Partition names node %q twice", name))
			}
			g[name] = i + 1 // 0 is the group of the nodes named nowhere
		}
	}
	n.mu.Lock()
	n.groups = g
	for name := range g {
		n.node(name)
	}
	n.reachabilityChanged()
	n.reportChange(Event{Kind: EventPartition, Groups: cloneGroups(groups)})
	n.mu.Unlock()
	n.flush()
}

// Heal removes the partition and every link cut by CutLink: every node can
// reach every other again, except the ones Disconnect cut off. Messages
// lost meanwhile stay lost.
func (n *Network) Heal() {
	n.mu.Lock()
	if n.groups != nil || len(n.linkCuts) > 0 {
		n.groups = nil
		clear(n.linkCuts)
		n.reachabilityChanged()
		n.reportChange(Event{Kind: EventHeal})
	}
	n.mu.Unlock()
	n.flush()
}

// CutLink cuts one direction of one link: messages from -> to are lost
// (ReasonPartition), in flight too, while messages to -> from still pass.
// It is the partition of a broken cable that still carries one way, or a
// firewall rule: what a node sends may arrive while nothing comes back.
// Dials between the two nodes wait, as a TCP handshake needs both ways.
// HealLink, or Heal, restores the link. CutLink panics if a name is empty.
func (n *Network) CutLink(from, to string) { n.setLinkCut(from, to, true) }

// HealLink restores the direction from -> to cut by CutLink. Messages lost
// meanwhile stay lost. It panics if a name is empty.
func (n *Network) HealLink(from, to string) { n.setLinkCut(from, to, false) }

func (n *Network) setLinkCut(from, to string, cut bool) {
	mustNode(from)
	mustNode(to)
	n.mu.Lock()
	k := linkKey{from, to}
	if n.linkCuts[k] != cut && from != to {
		kind := EventHealLink
		if cut {
			n.linkCuts[k] = true
			kind = EventCutLink
		} else {
			delete(n.linkCuts, k)
		}
		n.link(from, to)
		n.reachabilityChanged()
		n.reportChange(Event{Kind: kind, From: from, To: to})
	}
	n.mu.Unlock()
	n.flush()
}

// Disconnect cuts node off from every other node, as labrpc's
// Enable(false) does for a server: messages to and from it are lost, in
// flight too, and Dials to and from it wait. Its conns stay open. A node
// can still reach itself. It panics if node is empty.
func (n *Network) Disconnect(node string) { n.setDisconnected(node, true) }

// Reconnect undoes Disconnect. Messages lost meanwhile stay lost. It
// panics if node is empty.
func (n *Network) Reconnect(node string) { n.setDisconnected(node, false) }

func (n *Network) setDisconnected(node string, off bool) {
	mustNode(node)
	n.mu.Lock()
	nd := n.node(node)
	if nd.disconnected != off {
		nd.disconnected = off
		n.reachabilityChanged()
		kind := EventReconnect
		if off {
			kind = EventDisconnect
		}
		n.reportChange(Event{Kind: kind, Node: node})
	}
	n.mu.Unlock()
	n.flush()
}

// Crash stops node as a power cut would: its conns, listener and packet
// conn are closed at once (their calls return an error matching
// ErrCrashed), its unread messages are discarded, and every message in
// flight to or from it is lost. Its peers are told nothing: a crashed
// machine sends no goodbye. Their conns stay open, their Sends succeed
// (the messages are lost) and their Recvs wait until their context ends,
// which is why distributed code needs timeouts. After Restart, a peer's
// next message to the dead conn is answered with a reset (ErrConnReset),
// as a rebooted machine answers a connection it has forgotten.
//
// While crashed, the node cannot Listen or Dial (ErrCrashed), and Dials to
// it wait. Crashing a crashed node does nothing. Crash panics if node is
// empty.
func (n *Network) Crash(node string) {
	mustNode(node)
	n.mu.Lock()
	n.crash(n.node(node))
	n.mu.Unlock()
	n.flush()
}

// crash takes nd down, if it is up. The caller holds n.mu.
func (n *Network) crash(nd *node) {
	if nd.crashed || n.closed {
		return
	}
	nd.crashed = true
	nd.incarnation++
	for c := range nd.conns {
		n.closeEnd(c, ErrCrashed) // no end-of-stream mark: the peer hears nothing
	}
	if nd.listener != nil {
		n.closeListener(nd.listener, ErrCrashed, false)
	}
	if nd.packet != nil {
		n.closePacket(nd.packet, ErrCrashed)
	}
	n.reachabilityChanged()
	n.reportChange(Event{Kind: EventCrash, Node: nd.name})
}

// Restart brings a crashed node back, with nothing open: it may Listen,
// ListenPacket and Dial again. Restarting a node that is up does nothing.
// Restart panics if node is empty.
func (n *Network) Restart(node string) {
	mustNode(node)
	n.mu.Lock()
	nd := n.node(node)
	if nd.crashed && !n.closed {
		nd.crashed = false
		n.reachabilityChanged()
		n.reportChange(Event{Kind: EventRestart, Node: node})
	}
	n.mu.Unlock()
	n.flush()
}

// isCut reports whether a partition, a Disconnect or a cut link keeps
// messages from a from reaching b. The caller holds n.mu.
func (n *Network) isCut(a, b *node) bool {
	switch {
	case a == b:
		return false
	case a.disconnected || b.disconnected, n.linkCuts[linkKey{a.name, b.name}]:
		return true
	}
	return n.groups != nil && n.groups[a.name] != n.groups[b.name]
}

// cutting reports whether any partition, Disconnect or cut link is in
// force. The caller holds n.mu.
func (n *Network) cutting() bool {
	if n.groups != nil || len(n.linkCuts) > 0 {
		return true
	}
	for _, nd := range n.nodes {
		if nd.disconnected {
			return true
		}
	}
	return false
}

// reachabilityChanged updates the partition clocks and wakes the Dials
// waiting for their node to become reachable. The caller holds n.mu.
func (n *Network) reachabilityChanged() {
	n.updateCuts(time.Now())
	if n.closed {
		return // Close has closed changed for good
	}
	close(n.changed)
	n.changed = make(chan struct{})
}

// updateCuts records, for every pair of nodes, whether it is cut as of
// now, and for every node whether it is cut off: disconnected, or
// separated by the partition from some other node. (A node is not cut off
// because another one was disconnected: that one is.) The caller holds
// n.mu.
func (n *Network) updateCuts(now time.Time) {
	for _, a := range n.nodes {
		cutOff := a.disconnected
		for _, b := range n.nodes {
			if a == b {
				continue
			}
			cut := n.isCut(a, b)
			l, ok := n.links[linkKey{a.name, b.name}]
			switch {
			case ok:
				l.cut.set(cut, now)
			case cut: // a link is made uncut; make the ones that are not
				n.link(a.name, b.name)
			}
			if n.groups != nil && n.groups[a.name] != n.groups[b.name] {
				cutOff = true
			}
		}
		a.cut.set(cutOff, now)
	}
}
