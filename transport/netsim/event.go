package netsim

import (
	"bytes"
	"strconv"
	"time"
)

// EventKind says what happened to a message.
type EventKind int

// The kinds of events. A message is sent once; it then has one delivery or
// one drop for each copy: one copy, or two if it was duplicated.
const (
	// EventSend: a conn or packet conn handed the message to the network.
	EventSend EventKind = iota + 1
	// EventDuplicate: the link's faults made a second copy of the message
	// (reported at the send, before either copy arrives).
	EventDuplicate
	// EventDeliver: a copy reached the receiving conn or packet conn,
	// where it waits for Recv or ReadFrom. Msg is what arrived, which
	// faults may have corrupted or cut short.
	EventDeliver
	// EventDrop: a copy was lost; Reason says why.
	EventDrop
)

// String returns "send", "duplicate", "deliver" or "drop".
func (k EventKind) String() string {
	switch k {
	case EventSend:
		return "send"
	case EventDuplicate:
		return "duplicate"
	case EventDeliver:
		return "deliver"
	case EventDrop:
		return "drop"
	}
	return "EventKind(" + strconv.Itoa(int(k)) + ")"
}

// DropReason says why a message was lost.
type DropReason int

// The reasons a message is lost.
const (
	// ReasonFault: the link's Faults dropped it (Faults.Drop).
	ReasonFault DropReason = iota + 1
	// ReasonPartition: a partition or Disconnect separated its sender
	// and receiver when it was sent or when it would have arrived.
	ReasonPartition
	// ReasonCrash: its sender or receiver node crashed before it arrived.
	ReasonCrash
	// ReasonClosed: nothing was there to take it: the receiving conn end
	// was closed, or no packet conn was open on the receiving node.
	ReasonClosed
	// ReasonQueueFull: a datagram found the link's queue (Limits.Queue)
	// or the receiving packet conn's buffer full.
	ReasonQueueFull
)

// String returns "fault", "partition", "crash", "closed" or "queue full".
func (r DropReason) String() string {
	switch r {
	case ReasonFault:
		return "fault"
	case ReasonPartition:
		return "partition"
	case ReasonCrash:
		return "crash"
	case ReasonClosed:
		return "closed"
	case ReasonQueueFull:
		return "queue full"
	}
	return "DropReason(" + strconv.Itoa(int(r)) + ")"
}

// Event is one thing that happened to one message, as the observer set
// with WithObserver sees it. (ConnID, Seq) names the message: every copy of
// it, and every event about it, carry the same pair.
type Event struct {
	Kind     EventKind
	From, To string // the sending and receiving nodes
	// ConnID identifies the conn end or packet conn that sent the
	// message. Every conn end and packet conn of a network has its own,
	// counted from 1 in the order they are made.
	ConnID uint64
	// Seq numbers the messages sent by ConnID: 1, 2, 3, ...
	Seq uint64
	// Msg is a copy of the message, the observer's to keep: what was sent
	// (send, duplicate), or what this copy carried when it arrived or was
	// lost (deliver, drop), which Corrupt or Truncate faults may have
	// changed.
	Msg []byte
	// Time is when the event happened, by time.Now (virtual time inside
	// a testing/synctest bubble).
	Time time.Time
	// Packet is true for a datagram of a packet conn, false for a message
	// of a conn.
	Packet bool
	// Duplicate is true for events about the extra copy of a duplicated
	// message (its EventDuplicate, and its delivery or drop).
	Duplicate bool
	// Corrupted and Truncated say what the faults did to this copy.
	Corrupted, Truncated bool
	// Reason says why a copy was lost (EventDrop only).
	Reason DropReason
}

// report queues an event about it for the observer. The caller holds n.mu
// and calls n.flush after releasing it.
func (n *Network) report(kind EventKind, it *item, msg []byte, now time.Time, reason DropReason) {
	if n.opts.observer == nil {
		return
	}
	n.events = append(n.events, Event{
		Kind:      kind,
		From:      it.link.from.name,
		To:        it.link.to.name,
		ConnID:    it.srcID,
		Seq:       it.seq,
		Msg:       bytes.Clone(msg),
		Time:      now,
		Packet:    it.kind == kindDatagram,
		Duplicate: it.dup,
		Corrupted: it.corrupted,
		Truncated: it.truncated,
		Reason:    reason,
	})
}

// flush hands the queued events to the observer, in order. Every call that
// may have queued events calls it after releasing n.mu, so the events of a
// call are reported before it returns: if another goroutine is reporting
// at the time, flush waits for it (obsMu) and then reports what is left.
// Holding obsMu across the callback is deliberate: it is what gives the
// observer one event at a time, in order; the observer must therefore not
// call back into anything that reports events (see WithObserver).
func (n *Network) flush() {
	if n.opts.observer == nil {
		return
	}
	n.obsMu.Lock()
	defer n.obsMu.Unlock()
	for {
		n.mu.Lock()
		events := n.events
		n.events = nil
		n.mu.Unlock()
		if len(events) == 0 {
			return
		}
		for _, e := range events {
			n.opts.observer(e)
		}
	}
}
