package transport

import (
	"context"
	"time"
)

// aLongTimeAgo is a deadline in the past: setting it makes a blocked read,
// write or accept return at once with a timeout error.
var aLongTimeAgo = time.Unix(1, 0)

// interruptOn makes a blocking call on a socket honour ctx. The net
// package's calls take no context, only deadlines; so when ctx ends, the
// deadline is moved into the past (with setDeadline: a SetReadDeadline or
// SetDeadline method), which makes the blocked call return with a timeout
// error. The returned undo must be called after the blocking call: it stops
// the watch and, if it fired, clears the deadline for the next call.
//
// Bytes a read had already taken are not lost by this: the callers keep
// them in their own buffers.
func interruptOn(ctx context.Context, setDeadline func(time.Time) error) (undo func()) {
	if ctx.Done() == nil {
		return func() {} // ctx can never end: nothing to watch
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		_ = setDeadline(aLongTimeAgo)
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired // the deadline was set: clear it
			_ = setDeadline(time.Time{})
		}
	}
}

// isClosed reports whether ch has been closed, without blocking.
func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
