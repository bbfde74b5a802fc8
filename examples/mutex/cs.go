package main

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
)

// criticalSection is the resource the nodes take turns on: a counter that
// each entry increments the slow way (read it, work a while, write it
// back), so that two nodes inside at once lose an update, and a detector
// that notices the moment a node enters while another is inside.
//
// It lives in this one process, which is what lets the demo check mutual
// exclusion at all: between real machines nobody could watch both at once.
// The nodes themselves never look at it to decide anything.
type criticalSection struct {
	hold time.Duration // how long a node works inside

	inside   atomic.Int32 // nodes inside right now
	overlaps atomic.Int64 // entries made while another node was inside
	counter  atomic.Int64 // the shared counter
	entries  atomic.Int64 // entries made
}

// use is one visit: what a node does between Lock and Unlock.
func (cs *criticalSection) use() {
	if cs.inside.Add(1) > 1 {
		cs.overlaps.Add(1) // mutual exclusion has just been broken
	}
	v := cs.counter.Load()
	if cs.hold > 0 {
		time.Sleep(cs.hold) // the work done inside (a simulation, not a wait for anything)
	} else {
		runtime.Gosched() // give another node the chance to barge in
	}
	cs.counter.Store(v + 1)
	cs.entries.Add(1)
	cs.inside.Add(-1)
}

// held reports whether mutual exclusion held: no entry overlapped another,
// and so no increment of the counter was lost.
func (cs *criticalSection) held() bool {
	return cs.overlaps.Load() == 0 && cs.counter.Load() == cs.entries.Load()
}

// locker is what every algorithm offers a node: peer.Peer, peer.Ring and
// the lock service's Mutex (through serviceNode) all fit.
type locker interface {
	Lock(ctx context.Context) error
	Unlock(ctx context.Context) error
}

// noLock is a locker that does nothing, for -nolock: the control
// experiment that shows the detector at work.
type noLock struct{}

func (noLock) Lock(context.Context) error   { return nil }
func (noLock) Unlock(context.Context) error { return nil }

// visit has every node enter the critical section k times, all at once,
// and returns when they are done or ctx has ended. A node that cannot
// enter stops; the errors of all nodes are joined.
func visit(ctx context.Context, g *group, k int, think time.Duration, cs *criticalSection, tr *demo.Tracer) error {
	// The labels name the messages Lock and Unlock send in a -trace diagram.
	lockCtx, unlockCtx := trace.ContextWithLabel(ctx, "Lock"), trace.ContextWithLabel(ctx, "Unlock")
	var wg sync.WaitGroup
	errs := make([]error, len(g.nodes))
	for i, node := range g.nodes {
		wg.Add(1)
		go func() { // exits after k visits, or when Lock or Unlock fails
			defer wg.Done()
			for j := range k {
				if j > 0 && think > 0 {
					time.Sleep(think) // work outside the critical section (a simulation, not a wait)
				}
				if err := node.Lock(lockCtx); err != nil {
					errs[i] = err
					return
				}
				tr.Logf(g.names[i], "in the critical section")
				cs.use()
				if err := node.Unlock(unlockCtx); err != nil {
					errs[i] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
