package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// clientConn is one connection of a client, with the goroutine reading its
// replies:
//
//	caller ──▶ register seq ──▶ conn.Send ─ ─ ─ ▶ server
//	   ▲                                            │
//	   └── p.done ◀── deliver(seq) ◀── readLoop ◀─ ─ ┘
//
// The caller encodes its own request and decodes its own reply; the read
// loop only finds whose reply it is.
type clientConn struct {
	conn   transport.Conn
	lost   chan struct{} // closed when the conn has failed or the server said goodbye
	err    error         // why; written under Client.mu before lost is closed
	closed atomic.Bool   // close has been called
}

// close closes the conn, once. Later calls return at once rather than wait
// for the first to finish (a transport's Close may linger); so the read
// loop, seeing its Recv fail because Client.Close is closing the conn,
// does not wait for that.
func (cc *clientConn) close() {
	if cc.closed.CompareAndSwap(false, true) {
		_ = cc.conn.Close()
	}
}

// goAway tells the server the client is leaving, so that it cancels the
// calls it is still running for us (their replies would go unread), then
// closes the conn. A server that does not take the goodbye at once does
// not delay Close: the closed conn says the same, later.
func (cc *clientConn) goAway() {
	ctx, cancel := context.WithTimeout(context.Background(), goAwayTimeout)
	defer cancel()
	_ = cc.conn.Send(ctx, appendGoAway(nil, "", ""))
	cc.close()
}

// startConn makes conn the client's connection and starts reading it. The
// caller holds c.mu.
func (c *Client) startConn(conn transport.Conn) *clientConn {
	cc := &clientConn{conn: conn, lost: make(chan struct{})}
	c.cc = cc
	c.wg.Add(1)
	go c.readLoop(cc) // exits when cc.conn fails or is closed (Close closes it)
	return cc
}

func (c *Client) readLoop(cc *clientConn) {
	defer c.wg.Done()
	for {
		msg, err := cc.conn.Recv(context.Background()) // Close unblocks it
		if err != nil {
			c.lose(cc, fmt.Errorf("%w: %w", ErrConnLost, err))
			return
		}
		c.stats.received.Add(int64(len(msg)))
		kind, _, err := messageKind(msg)
		if err == nil && kind == kindReply {
			if h, body, err := parseReply(msg); err == nil {
				c.deliver(cc, h, body)
				continue
			}
		}
		if err == nil && kind == kindGoAway {
			c.lose(cc, c.goAwayError(msg))
			return
		}
		c.lose(cc, fmt.Errorf("%w: server sent a malformed message", ErrConnLost))
		return
	}
}

// goAwayError is the error a server's goodbye gives the calls pending on
// its conn: ErrServerClosed if it gives no reason.
func (c *Client) goAwayError(msg []byte) error {
	code, text, err := parseGoAway(msg)
	if err != nil {
		return fmt.Errorf("%w: server sent a malformed goodbye", ErrConnLost)
	}
	for _, s := range [...]error{ErrServerBusy, ErrConnLost} {
		if code == s.Error() {
			return fmt.Errorf("%w: %s", s, strings.TrimPrefix(text, "rpc: "))
		}
	}
	return ErrServerClosed
}

// deliver hands a reply that arrived on cc to the call waiting for it, if
// any.
func (c *Client) deliver(cc *clientConn, h replyHeader, body []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pending[h.seq]; p != nil {
		// Sent under c.mu so that unregister, which takes c.mu, knows no
		// reply can follow; it never blocks (size 1, extra copies dropped).
		select {
		case p.done <- replyMsg{cc: cc, h: h, body: body}:
		default:
		}
	}
}

// lose records that cc has ended because of err, and closes it.
func (c *Client) lose(cc *clientConn, err error) {
	c.mu.Lock()
	first := cc.err == nil
	if first {
		cc.err = err
		close(cc.lost)
	}
	if c.cc == cc {
		c.cc = nil
		c.lastErr = err
	}
	c.mu.Unlock()
	cc.close()
}

// connFor returns the connection to send on, dialing a new one if the
// client can and has none.
func (c *Client) connFor(ctx context.Context) (*clientConn, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, ErrClosed
		case c.cc != nil:
			cc := c.cc
			c.mu.Unlock()
			return cc, nil
		case c.dial == nil:
			err := c.lastErr
			c.mu.Unlock()
			return nil, err
		case c.dialing != nil: // someone else is dialing: wait for them
			wait := c.dialing
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-c.life.Done():
				return nil, ErrClosed
			}
		}
		wait := make(chan struct{})
		c.dialing = wait
		c.mu.Unlock()

		dctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(c.life, cancel) // Close cuts the dial short
		conn, err := c.dial(dctx)
		stop()
		cancel()

		c.mu.Lock()
		c.dialing = nil
		close(wait)
		switch {
		case err != nil:
			last := c.lastErr // why the last conn ended: ErrServerClosed, say
			c.mu.Unlock()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if last == nil {
				last = ErrConnLost
			}
			return nil, fmt.Errorf("%w; redial: %w", last, err)
		case c.closed:
			c.mu.Unlock()
			_ = conn.Close()
			return nil, ErrClosed
		}
		cc := c.startConn(conn)
		c.mu.Unlock()
		return cc, nil
	}
}

// maxEpochBounces bounds how often one call lets the server make it start
// over to learn the server's epoch: once is normal, more is a confused or
// hostile server.
const maxEpochBounces = 3

// roundTrip sends the call and waits for its reply: once, or with
// WithRetry, again and again until a reply comes or ctx ends.
func (c *Client) roundTrip(ctx context.Context, method string, args, reply any, md Metadata, replyMD *Metadata) error {
	if err := ctx.Err(); err != nil {
		return &callError{method, err}
	}
	p, err := c.register(ctx)
	if err != nil {
		return &callError{method, err}
	}
	defer c.unregister(p)

	retry := c.opts.retry
	h := requestHeader{seq: p.seq, md: md}
	var timer *time.Timer
	var interval time.Duration
	if retry != nil {
		h.flags = flagAtMostOnce
		h.clientID, h.epoch = c.id, c.epoch.Load()
		interval = retry.Interval
		timer = time.NewTimer(interval)
		defer timer.Stop()
	}

	// The first attempt's header, then the arguments, encoded straight
	// into one buffer; a later attempt copies the arguments behind a new
	// header in another.
	if err := c.stamp(ctx, &h, 1); err != nil {
		return &callError{method, err}
	}
	first, later := c.bufs.get(), (*[]byte)(nil)
	defer func() {
		c.bufs.put(first)
		if later != nil {
			c.bufs.put(later)
		}
	}()
	msg := appendRequest((*first)[:0], &h, method, c.opts.codec.Name())
	bodyAt := len(msg)
	if msg, err = c.opts.codec.Append(msg, args); err != nil {
		return &callError{method, fmt.Errorf("encode arguments: %w", err)}
	}
	body := msg[bodyAt:]
	*first = msg[:0] // keep what it grew to

	bounces := 0
	// The conns the request went out on: one (sentOn), or several. A
	// failed Send counts too, in case part of it left.
	var sentOn *clientConn
	severalConns := false
	resend := false // this attempt answers a lost reply, not an epoch bounce
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			if err := c.stamp(ctx, &h, attempt); err != nil {
				return &callError{method, err}
			}
			if later == nil {
				later = c.bufs.get()
			}
			msg = appendRequest((*later)[:0], &h, method, c.opts.codec.Name())
			msg = append(msg, body...)
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
			switch {
			case ctx.Err() != nil:
				return &callError{method, ctx.Err()}
			case c.isClosed():
				return &callError{method, ErrClosed}
			case retry == nil || c.dial == nil || errors.Is(err, transport.ErrMessageTooLarge):
				return &callError{method, err}
			}
			cc = nil // retry later, on a new connection
		}
		if resend && cc != nil {
			c.stats.retries.Add(1)
		}
		resend = true

		var lost <-chan struct{}
		if cc != nil {
			lost = cc.lost
		}
		var tick <-chan time.Time
		if retry != nil {
			timer.Reset(interval)
			tick = timer.C
			interval = min(2*interval, retry.MaxInterval)
		}
		var r replyMsg
		select {
		case r = <-p.done:
		case <-lost:
			select {
			case r = <-p.done:
				// The reply came before the conn ended (a server's last
				// reply, then its goodbye): both were ready, and select
				// happened to pick the loss. The reply wins.
			default:
				if c.isClosed() {
					// Close ended the conn: the caller closed the
					// client, and the conn's loss is only its consequence.
					return &callError{method, ErrClosed}
				}
				if retry == nil || c.dial == nil || errors.Is(cc.err, ErrServerBusy) {
					return &callError{method, cc.err} // busy: it did not run, and resending at once would not help
				}
				continue // redial and send again at once
			}
		case <-tick:
			if retry.MaxAttempts > 0 && attempt >= retry.MaxAttempts {
				return &callError{method, fmt.Errorf("no reply to %d attempts: %w", attempt, context.DeadlineExceeded)}
			}
			continue
		case <-ctx.Done():
			return &callError{method, ctx.Err()}
		case <-c.life.Done():
			return &callError{method, ErrClosed}
		}
		again, err := c.finish(method, &h, r, !severalConns && r.cc == sentOn, reply, replyMD)
		if again && bounces < maxEpochBounces {
			bounces++
			resend = false // the server asked for its epoch: not a loss
			continue
		}
		return err
	}
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// stamp sets the fields of h that change from one attempt to the next: the
// time left to the caller, and for at-most-once calls the attempt number
// and the acknowledgement. It fails if ctx's deadline has passed.
func (c *Client) stamp(ctx context.Context, h *requestHeader, attempt int) error {
	h.timeout = 0
	if d, ok := ctx.Deadline(); ok {
		if h.timeout = time.Until(d); h.timeout <= 0 {
			return context.DeadlineExceeded
		}
	}
	if h.flags&flagAtMostOnce != 0 {
		h.attempt = uint64(attempt)
		h.ack = c.ack()
	}
	return nil
}

// send sends msg on cc. A failure other than ctx's or the message's size
// means the conn is broken: it is closed, and its pending calls told.
func (c *Client) send(ctx context.Context, cc *clientConn, msg []byte) error {
	err := cc.conn.Send(ctx, msg)
	switch {
	case err == nil:
		c.stats.sent.Add(int64(len(msg)))
		return nil
	case ctx.Err() != nil, errors.Is(err, transport.ErrMessageTooLarge):
		return err
	}
	err = fmt.Errorf("%w: %w", ErrConnLost, err)
	c.lose(cc, err)
	return err
}

// finish turns a reply into the call's result. again is true if the server
// asked the call to start over, with the server's epoch, which is safe when
// the server never ran it: it had no epoch, or (oneConn) every attempt went
// on the conn that brought the server's answer (see codeWrongEpoch).
func (c *Client) finish(method string, h *requestHeader, r replyMsg, oneConn bool, reply any, replyMD *Metadata) (again bool, err error) {
	if replyMD != nil {
		*replyMD = r.h.md // error replies carry metadata too (a tracer's clock, say)
	}
	if r.h.flags&flagError != 0 {
		amo := h.flags&flagAtMostOnce != 0 && r.h.flags&flagEpoch != 0 && r.h.epoch != 0
		code := r.h.code
		switch {
		case amo && (code == codeNeedEpoch || code == codeWrongEpoch && oneConn):
			c.epoch.Store(r.h.epoch)
			h.epoch = r.h.epoch
			return true, nil
		case amo && code == codeWrongEpoch:
			c.epoch.Store(r.h.epoch)
			code = ErrMaybeExecuted.Error()
		case amo && code == ErrMaybeExecuted.Error():
			c.epoch.CompareAndSwap(h.epoch, 0) // introduce ourselves afresh next time
		}
		return false, &RemoteError{Method: method, Msg: r.h.msg, Err: c.errs.sentinel(code)}
	}
	if reply == nil {
		return false, nil // the caller does not want it
	}
	zero(reply)
	if err := c.opts.codec.Decode(r.body, reply); err != nil {
		return false, &callError{method, fmt.Errorf("%w: %v", ErrBadReply, err)}
	}
	return false, nil
}
