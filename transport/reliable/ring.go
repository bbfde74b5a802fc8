package reliable

// ring is a first-in, first-out queue in a circular buffer that doubles when
// full. Unlike a slice used as a queue (q = q[1:]), it reuses its memory as
// items come and go, so a long-lived connection does not keep allocating.
// The zero value is an empty queue.
type ring[T any] struct {
	buf  []T // len(buf) is zero or a power of two
	head int // index in buf of the first item
	n    int // number of items
}

func (r *ring[T]) len() int { return r.n }

// at returns the i-th item from the front; 0 <= i < len.
func (r *ring[T]) at(i int) *T {
	return &r.buf[(r.head+i)&(len(r.buf)-1)]
}

// push adds v at the back.
func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// pop removes and returns the front item; the ring must not be empty. The
// slot is zeroed so that the ring does not keep what the item points to.
func (r *ring[T]) pop() T {
	var zero T
	slot := &r.buf[r.head]
	v := *slot
	*slot = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

func (r *ring[T]) grow() {
	size := max(16, 2*len(r.buf))
	buf := make([]T, size)
	for i := range r.n {
		buf[i] = *r.at(i)
	}
	r.buf, r.head = buf, 0
}
