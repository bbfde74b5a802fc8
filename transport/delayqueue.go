package transport

import (
	"container/heap"
	"sync"
	"time"
)

// delayQueue holds values (messages, or datagrams with their addresses)
// until their delivery time, then hands them to deliver, one at a time, in order of delivery time (ties in order of
// arrival). Its goroutine starts with the first message and exits on close.
// It reads the clock with time.Now and waits with a timer, so inside a
// testing/synctest bubble its delays pass in virtual time.
type delayQueue[T any] struct {
	deliver func(T)

	mu      sync.Mutex // protects items, seq, started, stopped
	items   delayHeap[T]
	seq     uint64
	started bool
	stopped bool

	wake chan struct{} // size 1: an earlier item was pushed
	stop chan struct{}
	done chan struct{}
}

func newDelayQueue[T any](deliver func(T)) *delayQueue[T] {
	return &delayQueue[T]{
		deliver: deliver,
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// push schedules v for delivery after d. q keeps v, so the caller must not
// change what it points to afterwards. After close, push drops v.
func (q *delayQueue[T]) push(d time.Duration, v T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return
	}
	q.seq++
	heap.Push(&q.items, delayItem[T]{at: time.Now().Add(d), seq: q.seq, v: v})
	if !q.started {
		q.started = true
		go q.run() // exits when q.stop is closed
	}
	if q.items[0].seq == q.seq {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

func (q *delayQueue[T]) run() {
	defer close(q.done)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		q.mu.Lock()
		now := time.Now()
		var due []T
		for len(q.items) > 0 && !q.items[0].at.After(now) {
			due = append(due, heap.Pop(&q.items).(delayItem[T]).v)
		}
		wait := time.Duration(-1)
		if len(q.items) > 0 {
			wait = q.items[0].at.Sub(now)
		}
		q.mu.Unlock()

		for _, v := range due {
			q.deliver(v)
		}
		if len(due) > 0 {
			continue // delivering took time; look again
		}
		var tc <-chan time.Time
		if wait >= 0 {
			timer.Reset(wait)
			tc = timer.C
		}
		select {
		case <-tc:
		case <-q.wake:
			timer.Stop()
		case <-q.stop:
			timer.Stop()
			return
		}
	}
}

// close discards the messages not yet delivered and waits for the
// goroutine to exit.
func (q *delayQueue[T]) close() {
	q.mu.Lock()
	started := q.started
	if !q.stopped {
		q.stopped = true
		q.items = nil
		close(q.stop)
	}
	q.mu.Unlock()
	if started {
		<-q.done
	}
}

type delayItem[T any] struct {
	at  time.Time
	seq uint64
	v   T
}

type delayHeap[T any] []delayItem[T]

func (h delayHeap[T]) Len() int { return len(h) }
func (h delayHeap[T]) Less(i, j int) bool {
	if h[i].at.Equal(h[j].at) {
		return h[i].seq < h[j].seq
	}
	return h[i].at.Before(h[j].at)
}
func (h delayHeap[T]) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *delayHeap[T]) Push(x any)   { *h = append(*h, x.(delayItem[T])) }
func (h *delayHeap[T]) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}
