// Package room holds the one "wait for room" loop of distsys: how a sender
// that finds a bounded queue full waits, without holding the queue's lock,
// until whoever drains the queue has made room.
//
// Four queues use it: transport's send queue (the frames a conn's writer
// has yet to write), transport/reliable's send window, transport/netsim's
// receive window, and rpc's window of at-most-once calls in flight. Each
// sender reads the same way:
//
//	mu.Lock()
//	for {
//		if closed { mu.Unlock(); return ErrClosed } // checked first, every time round
//		if fits(msg) { break }                      // room: go on, still holding mu
//		if err := r.Wait(ctx, &mu, closing); err != nil {
//			mu.Unlock()
//			return err // ctx ended
//		}
//	}
//	enqueue(msg)
//	mu.Unlock()
//
// and whoever drains the queue calls r.Broadcast() with mu held.
//
// Why not sync.Cond, which does exactly this? Its Wait cannot be
// cancelled: a Send whose ctx ends, or whose conn is closed, would stay
// blocked until someone broadcasts. A channel closed to broadcast can sit
// in a select beside ctx.Done() and the owner's stop channel (STYLE C4).
package room

import (
	"context"
	"sync"
)

// Cond is a condition variable whose Wait also ends with a context or a
// stop channel. Its zero value is ready to use. Every method must be called
// with the mutex that guards the queue held; that mutex also guards the
// Cond.
type Cond struct {
	room chan struct{} // closed by Broadcast; nil while no one waits
}

// Wait releases mu, which the caller holds, and blocks until Broadcast is
// called, stop is closed or ctx ends; then it locks mu again, so it always
// returns with mu held, like sync.Cond.Wait. It returns ctx.Err() if ctx
// ended and nil otherwise.
//
// A nil error does not mean that there is room now: another sender may
// have taken it, or stop was closed. So Wait sits in a loop that checks,
// under mu, first whether the sender must give up (closed: stop is closed
// only after the owner marks itself closed under mu) and then whether
// there is room.
//
// There is no lost wake-up: the channel is taken under mu, so a Broadcast
// that makes room after this sender found none closes this very channel.
func (c *Cond) Wait(ctx context.Context, mu sync.Locker, stop <-chan struct{}) error {
	if c.room == nil {
		c.room = make(chan struct{})
	}
	room := c.room
	mu.Unlock()
	var err error
	select {
	case <-room:
	case <-stop:
	case <-ctx.Done():
		err = ctx.Err()
	}
	mu.Lock()
	return err
}

// Broadcast wakes every Wait in progress. It does nothing, cheaply, if no
// one waits: drainers call it every time they take from the queue.
func (c *Cond) Broadcast() {
	if c.room != nil {
		close(c.room)
		c.room = nil
	}
}
