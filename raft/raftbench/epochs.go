package raftbench

import (
	"sync/atomic"
	"time"
)

// epochs is a coarse clock that many waiters share at no cost per wait:
// one goroutine closes the current channel, and puts a new one in its
// place, every period. (A timer per Commit would cost the benchmark what
// it measures.)
type epochs struct {
	cur  atomic.Pointer[chan struct{}]
	stop chan struct{}
	done chan struct{}
}

func startEpochs(period time.Duration) *epochs {
	e := &epochs{stop: make(chan struct{}), done: make(chan struct{})}
	ch := make(chan struct{})
	e.cur.Store(&ch)
	go func() { // exits when close is called
		defer close(e.done)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				next := make(chan struct{})
				close(*e.cur.Swap(&next))
			case <-e.stop:
				return
			}
		}
	}()
	return e
}

// next returns a channel closed at the end of the current epoch.
func (e *epochs) next() <-chan struct{} { return *e.cur.Load() }

// close stops the goroutine and waits for it.
func (e *epochs) close() {
	close(e.stop)
	<-e.done
}
