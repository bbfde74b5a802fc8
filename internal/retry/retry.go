// Package retry holds the pause between two attempts of a request that
// failed, shared by the clients that retry: lock's client, kvraft's clerk,
// mapreduce's worker and lock/peer's token ring.
//
// A retry loop answers three questions, in this order, after each failed
// attempt:
//
//  1. Must I give up? When the caller's ctx ends, when the client is
//     closed, when the error is one that trying again cannot fix (the
//     server refused the request itself, or the two sides are not set up
//     for each other: another codec, another key), or when the server has
//     been silent for longer than the caller allows. Each loop keeps this
//     switch itself: it is where the loops differ.
//  2. May I repeat the request? Only if doing it twice is safe: the
//     request is idempotent, or the server drops duplicates (kvraft's
//     client id and sequence number, rpc's at-most-once).
//  3. How long do I wait first? That is this package.
//
// Waiting matters because the usual reason for a failure is a server that
// is down, restarting or overloaded: retrying at once only adds load, and
// spins the client's CPU for nothing. Backoff doubles the wait after each
// failure (exponential backoff), so that a short outage costs little
// latency and a long one costs few requests; Max caps it, so that the
// client notices soon enough when the server is back.
//
// Real systems with many clients also add jitter (a random part of the
// wait), so that clients cut off by the same failure do not all come back
// in the same instant. These pauses have none: each program here has few
// clients, and a run must replay the same with the same seed.
package retry

import (
	"context"
	"time"
)

// Backoff is the pause before the next attempt: Initial at first, doubled
// after each pause up to Max. With Max at or below Initial every pause is
// Initial: a fixed interval. Initial must be positive. A Backoff is one
// loop's state: make a new one for each request, and use it from one
// goroutine.
type Backoff struct {
	Initial time.Duration // the first pause
	Max     time.Duration // the longest pause

	next time.Duration // the pause Wait makes next; 0 before the first
}

// Wait blocks for the current pause, then doubles the next one (up to
// Max). It returns early, with context.Cause(ctx), if ctx ends first; a
// caller that retries until its ctx ends can stop on that error.
func (b *Backoff) Wait(ctx context.Context) error {
	if b.next == 0 {
		b.next = b.Initial
	}
	t := time.NewTimer(b.next)
	defer t.Stop()
	b.next = max(b.Initial, min(2*b.next, b.Max))
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
