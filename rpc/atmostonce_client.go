package rpc

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// This file is the client's half of at-most-once execution (WithRetry; see
// "At most once" in the package documentation, and atmostonce_server.go
// for the server's half). A call is the plain one (Client.callOnce), plus:
//
//   - each request carries the client's id, the server's epoch as the
//     client knows it, the call's attempt number, and the lowest sequence
//     number still pending (the acknowledgement);
//   - a request that gets no reply within the retry interval is sent
//     again, on a new connection if the old one was lost, with the wait
//     doubling up to RetryPolicy.MaxInterval;
//   - a reply that tells the server's epoch makes the call start over,
//     when that is safe (see codeNeedEpoch and codeWrongEpoch);
//   - a call starts only within the window (RetryPolicy.Window).

// RetryPolicy says how a client retries calls that get no reply. See
// WithRetry.
type RetryPolicy struct {
	// Interval is how long the first attempt waits for its reply before the
	// request is sent again; zero means DefaultRetryInterval. Each further
	// wait doubles, up to MaxInterval.
	Interval time.Duration
	// MaxInterval caps the wait between attempts; zero means 8 * Interval.
	MaxInterval time.Duration
	// MaxAttempts bounds how many times a request is sent; zero means
	// until the call's context ends.
	MaxAttempts int
	// Window bounds how far ahead of its oldest unfinished call a client
	// may start new ones, as TCP's window bounds the bytes in flight: a
	// call that would start Window or more calls after the oldest one
	// still waiting for its reply waits (for that call, or its ctx). The
	// server keeps a reply for each call in the window, so Window must
	// not exceed the server's per-client limit (WithReplyCache). Zero
	// means DefaultReplyCachePerClient.
	Window int
}

// WithRetry makes the client resend calls that get no reply in time, and
// makes the server run each call at most once however many copies of it
// arrive (the server needs no option). See "At most once" in the package
// documentation. A client made by Dial also redials when its connection is
// lost.
func WithRetry(p RetryPolicy) ClientOption {
	if p.Interval <= 0 {
		p.Interval = DefaultRetryInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 8 * p.Interval
	}
	if p.Window <= 0 {
		p.Window = DefaultReplyCachePerClient
	}
	return clientOption(func(o *clientOptions) { o.retry = &p })
}

// maxEpochBounces bounds how often one call lets the server make it start
// over to learn the server's epoch: once is normal, more is a confused or
// hostile server.
const maxEpochBounces = 3

// callAtMostOnce is callOnce for a client made WithRetry: it sends the
// call again and again until a reply comes or ctx ends.
func (c *Client) callAtMostOnce(ctx context.Context, method string, args, reply any, md Metadata, replyMD *Metadata) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := c.register(ctx, uint64(c.retry.Window))
	if err != nil {
		return err
	}
	defer c.unregister(p)

	// The arguments are encoded once, behind the first attempt's header;
	// a later attempt copies them behind a header of its own.
	h := requestHeader{seq: p.seq, md: md, flags: flagAtMostOnce, clientID: c.id, epoch: c.epoch.Load()}
	if err := c.stamp(ctx, &h, 1); err != nil {
		return err
	}
	first, later := c.bufs.get(), c.bufs.get()
	defer c.bufs.put(first)
	defer c.bufs.put(later)
	msg := appendRequest((*first)[:0], &h, method, c.codec.Name())
	bodyAt := len(msg)
	if msg, err = c.codec.Append(msg, args); err != nil {
		return fmt.Errorf("encode arguments: %w", err)
	}
	*first = msg[:0]
	body := msg[bodyAt:]

	timer := time.NewTimer(c.retry.Interval)
	defer timer.Stop()
	interval := c.retry.Interval
	bounces := 0
	// The conns the request went out on: one (sentOn), or several. A
	// failed Send counts too, in case part of it left.
	var sentOn *clientConn
	severalConns := false
	resend := false // this attempt answers a lost reply, not an epoch bounce
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			if err := c.stamp(ctx, &h, attempt); err != nil {
				return err
			}
			msg = append(appendRequest((*later)[:0], &h, method, c.codec.Name()), body...)
			*later = msg[:0]
		}
		cc, err := c.connFor(ctx)
		if err == nil {
			if sentOn == nil {
				sentOn = cc
			}
			severalConns = severalConns || cc != sentOn
			err = c.send(ctx, cc, msg)
		}
		if err != nil {
			if err = c.whyFailed(ctx, err); c.dial == nil || errors.Is(err, transport.ErrMessageTooLarge) ||
				ctx.Err() != nil || errors.Is(err, ErrClosed) {
				return err
			}
			cc = nil // the conn is lost: try again, on a new one, when the timer fires
		}
		if resend && cc != nil {
			c.stats.retries.Add(1)
		}
		resend = true

		timer.Reset(interval)
		interval = min(2*interval, c.retry.MaxInterval)
		r, err := c.wait(ctx, p, cc, timer.C)
		switch {
		case err == errNoReplyYet:
			if c.retry.MaxAttempts > 0 && attempt >= c.retry.MaxAttempts {
				return fmt.Errorf("no reply to %d attempts: %w", attempt, context.DeadlineExceeded)
			}
			continue
		case err != nil && (ctx.Err() != nil || errors.Is(err, ErrClosed)):
			return err
		case err != nil: // the conn was lost
			if c.dial == nil || errors.Is(err, ErrServerBusy) {
				return err // busy: the call did not run, and resending at once would not help
			}
			continue // redial and send again at once
		}
		again, err := c.finishAtMostOnce(r, &h, !severalConns && r.cc == sentOn, method, reply, replyMD)
		c.release(r)
		if again && bounces < maxEpochBounces {
			bounces++
			resend = false // the server asked for its epoch: not a loss
			continue
		}
		return err
	}
}

// stamp sets the fields of h that change from one attempt to the next: the
// time left to the caller, the attempt number and the acknowledgement. It
// fails if ctx's deadline has passed.
func (c *Client) stamp(ctx context.Context, h *requestHeader, attempt int) error {
	if err := setTimeout(ctx, h); err != nil {
		return err
	}
	h.attempt = uint64(attempt)
	c.mu.Lock()
	h.ack = c.low
	c.mu.Unlock()
	return nil
}

// finishAtMostOnce is decode for an at-most-once call. again is true if
// the server asked the call to start over, with the server's epoch, which
// is safe when the server never ran it: it had no epoch, or (oneConn)
// every attempt went on the conn that brought the server's answer (see
// codeWrongEpoch).
func (c *Client) finishAtMostOnce(r replyMsg, h *requestHeader, oneConn bool, method string, reply any, replyMD *Metadata) (again bool, err error) {
	if r.h.flags&flagError != 0 && r.h.flags&flagEpoch != 0 && r.h.epoch != 0 {
		switch r.h.code {
		case codeNeedEpoch:
			c.epoch.Store(r.h.epoch)
			h.epoch = r.h.epoch
			return true, nil
		case codeWrongEpoch:
			c.epoch.Store(r.h.epoch)
			if oneConn {
				h.epoch = r.h.epoch
				return true, nil
			}
			r.h.code = ErrMaybeExecuted.Error()
		case ErrMaybeExecuted.Error():
			c.epoch.CompareAndSwap(h.epoch, 0) // introduce ourselves afresh next time
		}
	}
	return false, c.decode(r, method, reply, replyMD)
}
