package netsim

import (
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// Counts counts messages (conn messages and datagrams alike) and their
// bytes. A duplicated message is sent once and has two copies, each
// delivered or dropped, so once nothing is in flight
//
//	Sent + Duplicated == Delivered + Dropped
type Counts struct {
	Sent           int64 // messages handed to the network
	SentBytes      int64
	Delivered      int64 // copies that reached the receiving conn or packet conn
	DeliveredBytes int64
	Dropped        int64 // copies lost, for any DropReason
	DroppedBytes   int64
	Duplicated     int64 // messages the faults delivered twice
}

func (c *Counts) add(o Counts) {
	c.Sent += o.Sent
	c.SentBytes += o.SentBytes
	c.Delivered += o.Delivered
	c.DeliveredBytes += o.DeliveredBytes
	c.Dropped += o.Dropped
	c.DroppedBytes += o.DroppedBytes
	c.Duplicated += o.Duplicated
}

// LinkStats is what happened on one direction of one link.
type LinkStats struct {
	Counts
	// Partitioned is how long the link has been cut, by a partition or
	// by Disconnect of either node, up to now.
	Partitioned time.Duration
	// Faults counts what the link's faults did to the messages that
	// reached them (messages sent into a partition or by a crashed node
	// never do).
	Faults transport.FaultStats
}

// NodeStats is what happened to the messages of one node.
type NodeStats struct {
	Out Counts // messages the node sent, over all its links
	In  Counts // messages sent to the node
	// Partitioned is how long the node has been cut off, up to now:
	// disconnected, or separated by a partition from at least one other
	// node. (Another node's Disconnect does not count here, but in the
	// LinkStats of the links to that node.)
	Partitioned time.Duration
}

// LinkStats returns the counters of the link from -> to, as of now. A link
// that has never been used has zero counters.
func (n *Network) LinkStats(from, to string) LinkStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	l, ok := n.links[linkKey{from, to}]
	if !ok {
		return LinkStats{}
	}
	return LinkStats{Counts: l.counts, Partitioned: l.cut.total(time.Now()), Faults: l.faultStats}
}

// NodeStats returns the counters of the node, as of now: the sums over
// its links.
func (n *Network) NodeStats(node string) NodeStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	var s NodeStats
	nd, ok := n.nodes[node]
	if !ok {
		return s
	}
	for k, l := range n.links {
		if k.from == node {
			s.Out.add(l.counts)
		}
		if k.to == node {
			s.In.add(l.counts)
		}
	}
	s.Partitioned = nd.cut.total(time.Now())
	return s
}

func (c *Counts) sent(size int) {
	c.Sent++
	c.SentBytes += int64(size)
}

func (c *Counts) delivered(size int) {
	c.Delivered++
	c.DeliveredBytes += int64(size)
}

func (c *Counts) dropped(size int) {
	c.Dropped++
	c.DroppedBytes += int64(size)
}

// cutClock adds up the time something spends cut off.
type cutClock struct {
	cut   bool
	since time.Time     // when the current cut began
	sum   time.Duration // earlier cuts
}

// set records whether it is cut as of now.
func (c *cutClock) set(cut bool, now time.Time) {
	switch {
	case cut && !c.cut:
		c.since = now
	case !cut && c.cut:
		c.sum += now.Sub(c.since)
	}
	c.cut = cut
}

// total returns the time spent cut off up to now.
func (c cutClock) total(now time.Time) time.Duration {
	if c.cut {
		return c.sum + now.Sub(c.since)
	}
	return c.sum
}
