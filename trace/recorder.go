package trace

import (
	"slices"
	"sync"
	"time"
)

// Recorder keeps a trace: the events of every node it knows, each stamped
// with its node's vector clock. A program (or test) makes one Recorder,
// names its nodes with Node, and wraps each node's conns with Node.Wrap;
// from then on every message is stamped and every send and receive is
// recorded, with nothing else to change. WriteFiles renders the trace.
//
// Each node has one vector clock, shared by all its conns, as a process has
// one clock however many sockets it opens. Events are kept in the order
// they happened at the Recorder, which agrees with causality: a receive is
// always recorded after its send, and each node's events in the order of
// its clock.
//
// A Recorder is safe for concurrent use by multiple goroutines. It starts
// no goroutines and holds no resources, so it needs no Close.
type Recorder struct {
	title     string
	now       func() time.Time
	maxEvents int

	mu      sync.Mutex // protects the fields below
	clocks  map[string]VectorClock
	events  []Event
	sends   map[MessageID]int // index in events of each message's send
	omitted int               // events not kept because of maxEvents
}

// NewRecorder returns an empty Recorder.
func NewRecorder(opts ...Option) *Recorder {
	o := newOptions(opts)
	return &Recorder{
		title:     o.title,
		now:       o.now,
		maxEvents: o.maxEvents,
		clocks:    make(map[string]VectorClock),
		sends:     make(map[MessageID]int),
	}
}

// Node returns the handle of the node called name, creating it with a zero
// clock the first time. Calls with the same name return handles to the
// same node. Names should be unique across every Recorder whose nodes talk
// to each other.
func (r *Recorder) Node(name string) *Node {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.clocks[name]; !ok {
		r.clocks[name] = VectorClock{}
	}
	return &Node{r: r, name: name}
}

// Events returns a copy of the events recorded so far, in the order they
// were recorded.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := slices.Clone(r.events)
	for i := range out {
		out[i].Clock = out[i].Clock.Copy()
	}
	return out
}

// Omitted returns how many events were not kept because of WithMaxEvents.
func (r *Recorder) Omitted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.omitted
}

// Title returns the title set with WithTitle.
func (r *Recorder) Title() string { return r.title }

// tick records an event of e.Node, ticking its clock first; for a receive,
// it merges the message's clock before the tick. It returns the event as
// recorded. Its clock is shared with the Recorder: callers that hand it out
// copy it first.
func (r *Recorder) tick(e Event, received VectorClock) Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	e.Clock = r.clocks[e.Node].Merge(received) // a new map, ours to change
	e.Clock[e.Node]++
	r.clocks[e.Node] = e.Clock
	if e.Kind == KindSend {
		e.Msg = e.Clock[e.Node]
	}
	if r.appendLocked(&e) {
		switch e.Kind {
		case KindSend:
			r.sends[MessageID{e.Node, e.Msg}] = len(r.events) - 1
		case KindReceive:
			// Now we know for sure who the message went to: a conn
			// that had not yet heard from its peer named it by its
			// address.
			if i, ok := r.sends[MessageID{e.Peer, e.Msg}]; ok {
				r.events[i].Peer = e.Node
			}
		}
	}
	return e
}

// drop records that the message of header h and payload, sent to peer, was
// lost.
func (r *Recorder) drop(h header, payload []byte, peer, note string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.appendLocked(&Event{
		Node:  h.from,
		Kind:  KindDrop,
		Clock: h.clock,
		Peer:  peer,
		Msg:   h.msgID(),
		Label: h.label,
		Size:  len(payload),
		Data:  preview(payload),
		Note:  note,
	})
}

// appendLocked stamps e with the time and keeps it, if there is room, and
// reports whether it did. The caller holds r.mu.
func (r *Recorder) appendLocked(e *Event) bool {
	if r.maxEvents > 0 && len(r.events) >= r.maxEvents {
		r.omitted++
		return false
	}
	e.Time = r.now()
	r.events = append(r.events, *e)
	return true
}

// Dropped records that a network lost msg on its way to the node named to.
// msg is the message as a traced conn sent it, header included: what a
// network that reports its losses (netsim's observer) hands over. note says
// why ("dropped by the network"). A msg without a trace header is not from
// a traced conn and is ignored, as is a damaged one.
//
// The drop is not an event of any process: it ticks no clock. The diagram
// draws the message as a short dashed arrow toward to, ending in a red
// cross.
func (r *Recorder) Dropped(msg []byte, to, note string) {
	h, payload, err := splitHeader(msg)
	if err != nil {
		return
	}
	r.drop(h, payload, to, note)
}
