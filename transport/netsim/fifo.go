package netsim

// fifo is a first-in, first-out queue that reuses its storage: a queue
// that is drained as fast as it fills, as most are, never allocates again.
type fifo[T any] struct {
	items []T
	head  int // items[:head] have been popped
}

func (q *fifo[T]) push(v T) { q.items = append(q.items, v) }

func (q *fifo[T]) len() int { return len(q.items) - q.head }

// peek returns the first item; the queue must not be empty.
func (q *fifo[T]) peek() T { return q.items[q.head] }

// slice returns the items, first first; it shares the queue's storage.
func (q *fifo[T]) slice() []T { return q.items[q.head:] }

// pop removes and returns the first item; the queue must not be empty.
func (q *fifo[T]) pop() T {
	var zero T
	v := q.items[q.head]
	q.items[q.head] = zero // let it be collected
	q.head++
	switch {
	case q.head == len(q.items):
		q.items, q.head = q.items[:0], 0
	case q.head >= 64 && 2*q.head >= len(q.items):
		// More than half is popped space: slide the rest down.
		k := copy(q.items, q.items[q.head:])
		clear(q.items[k:])
		q.items, q.head = q.items[:k], 0
	}
	return v
}

// drain removes every item and returns them.
func (q *fifo[T]) drain() []T {
	rest := q.items[q.head:]
	q.items, q.head = nil, 0
	return rest
}
