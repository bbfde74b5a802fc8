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
	routine   []string

	mu       sync.Mutex // protects the fields below
	clocks   map[string]VectorClock
	events   []Event
	sends    map[MessageID]int // index in events of each message's send
	wire     map[MessageID]int // how often a network carried each message (Transmitted)
	arrivals map[arrival]int   // how many copies of each message reached each node (Arrived)
	omitted  int               // events not kept because of maxEvents
}

// arrival names the copies of one message that reached one node.
type arrival struct {
	m  MessageID
	to string
}

// NewRecorder returns an empty Recorder.
func NewRecorder(opts ...Option) *Recorder {
	o := newOptions(opts)
	return &Recorder{
		title:     o.title,
		now:       o.now,
		maxEvents: o.maxEvents,
		routine:   o.routine,
		clocks:    make(map[string]VectorClock),
		sends:     make(map[MessageID]int),
		wire:      make(map[MessageID]int),
		arrivals:  make(map[arrival]int),
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
// lost: its Send failed.
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

// The methods below are for a network that reports what it does to
// messages (package tracesim connects netsim's observer to them): they
// take a message as it travels, find its stamp (FindStamp: at its start
// for a traced Conn, inside it for an rpc call traced by tracerpc), and
// ignore a message without one, or a damaged one. A message whose send
// this Recorder did not record (another process's, or one left out by
// WithMaxEvents) is ignored too, except by Dropped.

// Dropped records that a network lost msg on its way to the node named to.
// note says why ("dropped by netsim: partition").
//
// The drop is not an event of any process: it ticks no clock. The diagram
// draws the message as a short dashed arrow toward to, ending in a red
// cross.
func (r *Recorder) Dropped(msg []byte, to, note string) {
	h, err := findHeader(msg)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := Event{Node: h.from, Kind: KindDrop, Clock: h.clock, Peer: to, Msg: h.msgID(), Label: h.label, Note: note}
	r.describeLocked(&e)
	r.appendLocked(&e)
}

// Transmitted records that a network carried msg toward the node named to:
// once per send, however many copies the network then makes. The first
// time a message is carried is its send, which the sender recorded; any
// later time, the sender sent the same message again, and Transmitted
// records a resend event at the sender (ticking its clock): an rpc client
// retrying a call, or a server answering a duplicate from its reply cache.
func (r *Recorder) Transmitted(msg []byte, to string) {
	h, err := findHeader(msg)
	if err != nil {
		return
	}
	m := MessageID{From: h.from, N: h.msgID()}
	e := Event{Node: h.from, Kind: KindResend, Peer: to, Msg: m.N, Label: h.label, Note: "retry"}
	if IsReplyLabel(h.label) {
		e.Note = "reply cache"
	}
	r.mu.Lock()
	_, ours := r.sends[m]
	if ours {
		r.wire[m]++
		r.describeLocked(&e)
	}
	again := ours && r.wire[m] > 1
	r.mu.Unlock()
	if again {
		r.tick(e, nil)
	}
}

// Arrived records that a network delivered a copy of msg to the node named
// to. The first copy of a message to reach a node is the one the program
// receives, and its receive event says so; each later copy is recorded as
// a duplicate note, with no tick: the program may take it as new (a
// traced Conn records a second receive) or not (an rpc server answers it
// from its reply cache), and the diagram shows which.
func (r *Recorder) Arrived(msg []byte, to string) {
	h, err := findHeader(msg)
	if err != nil {
		return
	}
	m := MessageID{From: h.from, N: h.msgID()}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ours := r.sends[m]; !ours {
		return
	}
	a := arrival{m, to}
	r.arrivals[a]++
	if r.arrivals[a] > 1 {
		e := Event{Node: to, Kind: KindDuplicate, Clock: h.clock, Peer: h.from, Msg: m.N, Label: h.label}
		r.describeLocked(&e)
		r.appendLocked(&e)
	}
}

// Mark records a change of the network: kind is KindPartition (a
// partition, a cut link, a disconnected node), KindHeal (its end) or
// KindFaults (new faults on a link), and label says what changed
// ("{alice primary} | {backup bob}"). It is not an event of any process:
// it ticks no clock and has no node. The diagram draws it as a line across
// every node's line, at the moment it was recorded. Mark panics for any
// other kind: that is a mistake at the call site.
func (r *Recorder) Mark(kind Kind, label string) Event {
	if !kind.network() {
		panic("trace: Mark of kind " + string(kind))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := Event{Kind: kind, Label: label}
	r.appendLocked(&e)
	return e
}

// describeLocked copies the size and preview of a message's payload from
// its send, if the Recorder has it, into e, a note about the message. The
// caller holds r.mu.
func (r *Recorder) describeLocked(e *Event) {
	m, _ := e.Message()
	if i, ok := r.sends[m]; ok {
		e.Size, e.Data = r.events[i].Size, r.events[i].Data
	}
}
