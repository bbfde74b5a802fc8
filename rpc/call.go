package rpc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// A call, from start to end. Client.Call and Client.Go come here, through
// the client interceptors if any.

// call makes one call, and counts it. This is the whole of a plain call:
//
//	register → encode → send → wait → decode
//
// A client made WithRetry takes the at-most-once path instead, which does
// the same steps, again and again (atmostonce_client.go).
func (c *Client) call(ctx context.Context, method string, args, reply any, md Metadata, replyMD *Metadata) error {
	c.stats.calls.Add(1)
	var err error
	if c.retry != nil {
		err = c.callAtMostOnce(ctx, method, args, reply, md, replyMD)
	} else {
		err = c.callOnce(ctx, method, args, reply, md, replyMD)
	}
	if err != nil {
		c.stats.errors.Add(1)
		if re, ok := err.(*RemoteError); ok {
			return re // the server's answer names the method already
		}
		return &callError{method, err}
	}
	return nil
}

// callOnce sends the call once, and waits for its reply.
func (c *Client) callOnce(ctx context.Context, method string, args, reply any, md Metadata, replyMD *Metadata) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	// Register: a sequence number, and a channel for the reply to land in.
	p, err := c.register(ctx, 0)
	if err != nil {
		return err
	}
	defer c.unregister(p)

	// Encode the header and the arguments into one buffer.
	h := requestHeader{seq: p.seq, md: md}
	if err := setTimeout(ctx, &h); err != nil {
		return err
	}
	buf := c.bufs.get()
	defer c.bufs.put(buf)
	msg, err := c.encode(*buf, &h, method, args)
	if err != nil {
		return err
	}
	*buf = msg[:0] // keep what it grew to

	// Send, and wait for the reply.
	cc, err := c.connFor(ctx)
	if err == nil {
		err = c.send(ctx, cc, msg)
	}
	if err != nil {
		return c.whyFailed(ctx, err)
	}
	r, err := c.wait(ctx, p, cc, nil)
	if err != nil {
		return err
	}
	defer c.release(r)
	return c.decode(r, method, reply, replyMD)
}

// callError is the error of a call that failed on the client's side: the
// cause, prefixed with the method.
type callError struct {
	method string
	err    error
}

func (e *callError) Error() string {
	return "rpc: " + e.method + ": " + strings.TrimPrefix(e.err.Error(), "rpc: ")
}

func (e *callError) Unwrap() error { return e.err }

// register makes a new pending call. If window is not zero, it first waits
// until the call is fewer than window calls after the oldest unfinished one
// (see RetryPolicy.Window).
func (c *Client) register(ctx context.Context, window uint64) (*pendingCall, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for window > 0 && c.nextSeq-c.low >= window && !c.closed {
		if err := c.lowMoved.Wait(ctx, &c.mu, c.life.Done()); err != nil {
			return nil, err
		}
	}
	if c.closed {
		return nil, ErrClosed
	}
	p, _ := c.calls.Get().(*pendingCall)
	if p == nil {
		p = &pendingCall{done: make(chan replyMsg, 1)}
	}
	p.seq = c.nextSeq
	c.nextSeq++
	c.pending[p.seq] = p
	return p, nil
}

// unregister ends a pending call, and recycles it. It moves low past the
// calls that have finished (the acknowledgement an at-most-once request
// carries) and wakes the calls waiting for the window to open.
func (c *Client) unregister(p *pendingCall) {
	c.mu.Lock()
	delete(c.pending, p.seq)
	low := c.low
	for c.low < c.nextSeq {
		if _, ok := c.pending[c.low]; ok {
			break
		}
		c.low++
	}
	if c.low != low {
		c.lowMoved.Broadcast()
	}
	c.mu.Unlock()
	// deliver sends only under c.mu to calls in pending, so nothing more
	// can arrive; drop a reply that came after the caller stopped waiting.
	select {
	case r := <-p.done:
		c.release(r)
	default:
	}
	c.calls.Put(p)
}

// setTimeout puts in h how long the caller will wait, from ctx's deadline.
// It fails if the deadline has passed.
func setTimeout(ctx context.Context, h *requestHeader) error {
	h.timeout = 0
	if d, ok := ctx.Deadline(); ok {
		if h.timeout = time.Until(d); h.timeout <= 0 {
			return context.DeadlineExceeded
		}
	}
	return nil
}

// encode appends the request h for method, with args, to b.
func (c *Client) encode(b []byte, h *requestHeader, method string, args any) ([]byte, error) {
	msg := appendRequest(b, h, method, c.codec.Name())
	msg, err := c.codec.Append(msg, args)
	if err != nil {
		return nil, fmt.Errorf("encode arguments: %w", err)
	}
	return msg, nil
}

// send sends msg on cc. A failure other than ctx's or the message's size
// means the conn is broken: it is closed, and its pending calls told. The
// error returned is the conn's first: if the server's goodbye (busy, say)
// arrived just before the send failed, that is why.
func (c *Client) send(ctx context.Context, cc *clientConn, msg []byte) error {
	err := cc.conn.Send(ctx, msg)
	switch {
	case err == nil:
		c.stats.sent.Add(int64(len(msg)))
		return nil
	case ctx.Err() != nil, errors.Is(err, transport.ErrMessageTooLarge):
		return err
	}
	c.lose(cc, fmt.Errorf("%w: %w", ErrConnLost, err))
	c.mu.Lock()
	defer c.mu.Unlock()
	return cc.err
}

// whyFailed says why a call could not be sent: its ctx ended, the client
// was closed, or err.
func (c *Client) whyFailed(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case c.isClosed():
		return ErrClosed
	}
	return err
}

// errNoReplyYet is what wait returns when its tick fires first: time to
// send the call again.
var errNoReplyYet = errors.New("rpc: no reply yet")

// wait waits for the reply to p, sent on cc (nil if it could not be sent:
// then only tick, ctx or Close end the wait). It returns the reply, or
// why none came: the conn's error if it was lost, ctx.Err(), ErrClosed,
// or errNoReplyYet when tick fires.
func (c *Client) wait(ctx context.Context, p *pendingCall, cc *clientConn, tick <-chan time.Time) (replyMsg, error) {
	var lost <-chan struct{}
	if cc != nil {
		lost = cc.lost
	}
	select {
	case r := <-p.done:
		return r, nil
	case <-lost:
		select {
		case r := <-p.done:
			// The reply came before the conn ended (a server's last
			// reply, then its goodbye): both were ready, and select
			// happened to pick the loss. The reply wins.
			return r, nil
		default:
		}
		if c.isClosed() {
			// Close ended the conn: the caller closed the client, and
			// the conn's loss is only its consequence.
			return replyMsg{}, ErrClosed
		}
		return replyMsg{}, cc.err
	case <-tick:
		return replyMsg{}, errNoReplyYet
	case <-ctx.Done():
		return replyMsg{}, ctx.Err()
	case <-c.life.Done():
		return replyMsg{}, ErrClosed
	}
}

// decode turns a reply into the call's result: the server's error, or
// the reply decoded into reply.
func (c *Client) decode(r replyMsg, method string, reply any, replyMD *Metadata) error {
	if replyMD != nil {
		*replyMD = r.h.md // error replies carry metadata too (a tracer's clock, say)
	}
	if r.h.flags&flagError != 0 {
		return &RemoteError{Method: method, Msg: r.h.msg, Err: c.errs.sentinel(r.h.code)}
	}
	if reply == nil {
		return nil // the caller does not want it
	}
	_, isGob := c.codec.(*gobCodec)
	zero(reply, isGob)
	if err := c.codec.Decode(r.body, reply); err != nil {
		return fmt.Errorf("%w: %v", ErrBadReply, err)
	}
	if isGob {
		unkeepBytes(reply)
	}
	return nil
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}
