package raft

import (
	"sync"
	"sync/atomic"
)

// applier delivers committed commands and snapshots to the application,
// in order, from a goroutine of its own, so that the loop never waits for
// the application. (If it did, an application that calls Propose or
// Snapshot from the goroutine reading Apply, as MIT's labs do, would
// deadlock the node: the loop waiting for the application, the
// application waiting for the loop.)
//
//	loop ──push──► [queue] ──► goroutine ──► out (Apply) ──► application
//	        ▲                                 │
//	        └────── room (queue below limit) ─┘
//
// The queue is bounded: when it holds limit messages, the loop stops
// taking committed entries from the log (they wait there, costing no
// memory) until the application catches up, and keeps electing, saving
// and replicating meanwhile.
type applier struct {
	mu    sync.Mutex // protects queue
	queue []ApplyMsg
	limit int

	wake      chan struct{} // size 1: the queue was empty and is not
	room      chan struct{} // size 1: the queue was full and is not
	out       chan ApplyMsg // unbuffered: the application's
	delivered atomic.Uint64 // the index of the last message delivered
}

func newApplier(limit int) *applier {
	return &applier{limit: limit, wake: make(chan struct{}, 1), room: make(chan struct{}, 1), out: make(chan ApplyMsg)}
}

// hasRoom reports whether the queue is below its limit.
func (a *applier) hasRoom() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.queue) < a.limit
}

// push queues msgs for delivery. It never blocks.
func (a *applier) push(msgs []ApplyMsg) {
	if len(msgs) == 0 {
		return
	}
	a.mu.Lock()
	a.queue = append(a.queue, msgs...)
	a.mu.Unlock()
	signal(a.wake)
}

// signal sends on a channel of size 1 without blocking: one pending
// signal is as good as many.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// next returns the first queued message, if any, and signals room if
// taking it leaves the queue below its limit.
func (a *applier) next() (ApplyMsg, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) == 0 {
		a.queue = nil // let a large backlog's array go
		return ApplyMsg{}, false
	}
	m := a.queue[0]
	a.queue[0] = ApplyMsg{}
	a.queue = a.queue[1:]
	if len(a.queue) == a.limit-1 {
		signal(a.room)
	}
	return m, true
}

// run delivers until done is closed, then closes out.
func (a *applier) run(done <-chan struct{}) {
	defer close(a.out)
	for {
		m, ok := a.next()
		if !ok {
			select {
			case <-a.wake:
				continue
			case <-done:
				return
			}
		}
		// Recorded before the send: the receiver may run, and call
		// Snapshot at m.Index, before this goroutine resumes after it.
		a.delivered.Store(m.Index)
		select {
		case a.out <- m:
		case <-done:
			return
		}
	}
}
