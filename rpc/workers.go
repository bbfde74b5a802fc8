package rpc

import (
	"sync"
	"sync/atomic"
)

// maxIdleWorkers bounds the handler goroutines kept waiting for work.
const maxIdleWorkers = 256

// Every call runs in a goroutine of its own, as in net/rpc, so that a slow
// handler delays no one else. Starting a fresh goroutine per call costs
// more than it seems: its small stack must grow (by copying) to the depth
// a handler and reflection need, every time. So a goroutine that finishes
// a call waits for the next one, and runs it on the stack it already has;
// the read loop hands a call to a waiting goroutine if there is one, and
// starts a new goroutine otherwise. The idle ones are bounded by
// maxIdleWorkers; Close stops them.
//
// It pays: with a fresh goroutine per call instead, small calls from 64
// callers take 35% longer (BenchmarkRPC/small/distsys/64callers, median of
// five interleaved runs: 7.7 µs a call against 10.4 µs) and 2 more
// allocations. The price: after a burst, up to maxIdleWorkers goroutines
// wait, with their grown stacks, until the server closes (about 7 MiB
// for 256 after TestHostileFootprint's "nonreader").
//
//	readLoop ──job──▶ idle worker (if one waits on jobs)
//	    └────────────▶ go worker(job) (otherwise)
type workers struct {
	jobs chan job      // unbuffered: a send succeeds only if a worker waits
	stop chan struct{} // closed by Close: idle workers exit
	idle atomic.Int64  // workers waiting on jobs, or about to
	wg   sync.WaitGroup
}

// job is one call for a worker to run.
type job struct {
	sc   *serverConn
	m    *method
	h    requestHeader
	body []byte
	buf  *[]byte // the pooled buffer the request lies in; handle puts it back
}

func newWorkers() *workers {
	return &workers{jobs: make(chan job), stop: make(chan struct{})}
}

// run has j run by an idle worker, or by a new one. The caller must not
// call run after close.
func (w *workers) run(j job) {
	select {
	case w.jobs <- j:
	default:
		w.wg.Add(1)
		go w.work(j) // exits when w.stop is closed, or when too many are idle
	}
}

func (w *workers) work(j job) {
	defer w.wg.Done()
	for {
		j.sc.handle(j.m, j.h, j.body, j.buf)
		if w.idle.Add(1) > maxIdleWorkers {
			w.idle.Add(-1)
			return
		}
		select {
		case j = <-w.jobs:
			w.idle.Add(-1)
		case <-w.stop:
			return
		}
	}
}

// close stops the idle workers and waits for every worker to exit. Calls
// still running delay it.
func (w *workers) close() {
	close(w.stop)
	w.wg.Wait()
}
