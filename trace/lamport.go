package trace

import "sync"

// LamportClock is a logical clock in the sense of Lamport (1978): a counter
// that every process keeps and that orders events consistently with
// causality. Its three rules:
//
//	local event or send:  t = t + 1                   (Tick)
//	receive of stamp s:   t = max(t, s) + 1           (Witness)
//	stamp on a message:   the t of its send event
//
// If event e happens before event f then L(e) < L(f). The converse does not
// hold: L(e) < L(f) says nothing about whether e could have influenced f.
// (A VectorClock captures happens-before exactly.) Ties between processes
// are broken by process name or id when a total order is needed, as in
// Ricart–Agrawala mutual exclusion.
//
// The zero value is a clock at time 0, ready to use. A LamportClock is safe
// for concurrent use by multiple goroutines; it must not be copied after
// first use.
type LamportClock struct {
	mu sync.Mutex // protects t
	t  uint64
}

// Tick advances the clock for a local event or a send and returns the new
// time, which is the timestamp of that event.
func (c *LamportClock) Tick() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t++
	return c.t
}

// Witness advances the clock for the receipt of a message stamped t: the
// clock becomes max(now, t) + 1, which it returns as the timestamp of the
// receive event.
func (c *LamportClock) Witness(t uint64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = max(c.t, t) + 1
	return c.t
}

// Now returns the current time without advancing the clock.
func (c *LamportClock) Now() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
