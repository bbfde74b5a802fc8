package netsim

import (
	"bytes"
	"slices"
	"time"
)

// An observer is one function that sees the network's events. It is a
// pointer so that Observe's stop function can find it again.
type observer struct{ f func(Event) }

// Observe adds f to the functions that see every event of the network, as
// WithObserver does, and returns a function that removes it. The stop
// function waits for a call of f in progress to return, so once it has
// returned f is not called again; it is idempotent. f sees the events
// reported after Observe returns (and perhaps some reported just before).
//
// f must obey the rules of WithObserver: be quick, and not send, receive,
// close or change anything on the network. Neither f nor any other observer
// may call the stop function, which would deadlock.
func (n *Network) Observe(f func(Event)) (stop func()) {
	o := &observer{f: f}
	n.mu.Lock()
	n.observers = append(slices.Clip(n.observers), o) // never change the slice a flush may hold
	n.watched.Store(true)
	n.mu.Unlock()
	return func() {
		n.obsMu.Lock() // no call of o.f is in progress once we hold it
		defer n.obsMu.Unlock()
		n.mu.Lock()
		defer n.mu.Unlock()
		i := slices.Index(n.observers, o)
		if i < 0 {
			return
		}
		n.observers = slices.Delete(slices.Clone(n.observers), i, i+1)
		if len(n.observers) == 0 {
			n.watched.Store(false)
			n.events = nil // nobody is left to see them
		}
	}
}

// report queues an event about it for the observers. The caller holds
// n.mu and calls n.flush after releasing it.
func (n *Network) report(kind EventKind, it *item, msg []byte, now time.Time, reason DropReason) {
	if len(n.observers) == 0 {
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

// reportChange queues an event about a change of the network, stamped
// with the time. The caller holds n.mu and calls n.flush after releasing
// it.
func (n *Network) reportChange(e Event) {
	if len(n.observers) == 0 {
		return
	}
	e.Time = time.Now()
	n.events = append(n.events, e)
}

// flush hands the queued events to the observers, in order. Every call
// that may have queued events calls it after releasing n.mu, so the events
// of a call are reported before it returns: if another goroutine is
// reporting at the time, flush waits for it (obsMu) and then reports what
// is left. Holding obsMu across the callbacks is deliberate: it is what
// gives the observers one event at a time, in order; an observer must
// therefore not call back into anything that reports events (see
// WithObserver).
func (n *Network) flush() {
	if !n.watched.Load() {
		return // the common case without observers: no lock taken
	}
	n.obsMu.Lock()
	defer n.obsMu.Unlock()
	for {
		n.mu.Lock()
		events, observers := n.events, n.observers
		n.events = nil
		n.mu.Unlock()
		if len(events) == 0 {
			return
		}
		for _, e := range events {
			for i, o := range observers {
				if i > 0 { // each observer gets a message of its own to keep
					e.Msg, e.Groups = bytes.Clone(e.Msg), cloneGroups(e.Groups)
				}
				o.f(e)
			}
		}
	}
}

func cloneGroups(groups [][]string) [][]string {
	if groups == nil {
		return nil
	}
	out := make([][]string, len(groups))
	for i, g := range groups {
		out[i] = slices.Clone(g)
	}
	return out
}
