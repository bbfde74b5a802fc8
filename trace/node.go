package trace

import "fmt"

// Node is one process of a traced system: a name, a vector clock, and the
// conns it sends and receives on. Get one from Recorder.Node. A Node is safe
// for concurrent use by multiple goroutines.
type Node struct {
	r    *Recorder
	name string
}

// Name returns the node's name.
func (n *Node) Name() string { return n.name }

// Clock returns a copy of the node's current vector clock.
func (n *Node) Clock() VectorClock {
	n.r.mu.Lock()
	defer n.r.mu.Unlock()
	return n.r.clocks[n.name].Copy()
}

// Log records a local event: something the node did or decided ("became
// leader", "granted lock to b") that the diagram should show. It ticks the
// node's clock and returns the event.
func (n *Node) Log(label string) Event {
	return n.r.tick(Event{Node: n.name, Kind: KindLocal, Label: label}, nil).copied()
}

// Logf is Log with fmt.Sprintf formatting.
func (n *Node) Logf(format string, args ...any) Event {
	return n.Log(fmt.Sprintf(format, args...))
}

// RecordSend records a send event of n: a message to peer, named label,
// with the given payload (which it only measures and previews). It ticks
// n's clock and returns the event and the stamp the message must carry to
// its receiver, whose RecordReceive merges it: a few bytes holding n's name,
// the label and the clock.
//
// Conn.Send does this for every message it sends. Call it directly only to
// trace messages that travel some other way: in rpc metadata (package
// tracerpc), over a UDP socket, in a message format of your own.
func (n *Node) RecordSend(peer, label string, payload []byte) (Event, []byte) {
	e, h := n.recordSend(peer, label, payload)
	return e.copied(), appendHeader(nil, h)
}

func (n *Node) recordSend(peer, label string, payload []byte) (Event, header) {
	e := n.r.tick(Event{
		Node:  n.name,
		Kind:  KindSend,
		Peer:  peer,
		Label: label,
		Size:  len(payload),
		Data:  preview(payload),
	}, nil)
	return e, header{from: e.Node, label: e.Label, clock: e.Clock}
}

// RecordReceive records the receipt by n of a message that carried stamp
// (from the sender's RecordSend) and payload: it merges the stamp's clock
// into n's, ticks it and returns the receive event. A stamp that is not one
// gives an error matching ErrNotTraced or ErrBadHeader, and records nothing.
func (n *Node) RecordReceive(stamp, payload []byte) (Event, error) {
	h, rest, err := splitHeader(stamp)
	if err != nil {
		return Event{}, err
	}
	if len(rest) > 0 {
		return Event{}, fmt.Errorf("%w: %d bytes after the stamp", ErrBadHeader, len(rest))
	}
	return n.recordReceive(h, payload).copied(), nil
}

func (n *Node) recordReceive(h header, payload []byte) Event {
	return n.r.tick(Event{
		Node:  n.name,
		Kind:  KindReceive,
		Peer:  h.from,
		Msg:   h.msgID(),
		Label: h.label,
		Size:  len(payload),
		Data:  preview(payload),
	}, h.clock)
}

// Discard records that the program chose not to send a message it could
// have sent to peer: a chat server dropping a message for a member whose
// queue is full, a load shedder refusing work. label names the message,
// payload is what it would have carried (only measured and previewed), and
// why says why ("queue full"). It is an event of n, ticking its clock, and
// the diagram draws it as a short arrow toward peer that ends in an orange
// cross: a loss the program decided on, unlike the red crosses of the
// network's.
func (n *Node) Discard(peer, label string, payload []byte, why string) Event {
	return n.r.tick(Event{
		Node:  n.name,
		Kind:  KindDiscard,
		Peer:  peer,
		Label: label,
		Size:  len(payload),
		Data:  preview(payload),
		Note:  why,
	}, nil).copied()
}

// Crashed records that the node crashed: its last event until Restarted.
// It ticks the node's clock (the Recorder, an observer outside the node,
// keeps counting across the crash, as ShiViz wants) and the diagram draws
// a cross on the node's line, which goes grey until the restart. Package
// tracesim records the crashes of a netsim network this way.
func (n *Node) Crashed() Event {
	return n.r.tick(Event{Node: n.name, Kind: KindCrash}, nil).copied()
}

// Restarted records that the node came back after a crash.
func (n *Node) Restarted() Event {
	return n.r.tick(Event{Node: n.name, Kind: KindRestart}, nil).copied()
}
