package rpc

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/distsys-kit/distsys/transport"
)

// Client makes calls to a Server over one connection at a time. Any number
// of calls may be outstanding at once, from any number of goroutines: they
// share the connection, and a reply finds its caller by the call's sequence
// number. A Client is safe for concurrent use by multiple goroutines.
//
// A client made by Dial opens a new connection when the old one is lost, at
// the next call (or, with WithRetry, at the next attempt of a pending call).
// A client made by NewClient has only the connection it was given.
type Client struct {
	opts   clientOptions
	errs   errorTable
	invoke Invoker                                       // the client interceptors around do; nil if none
	dial   func(context.Context) (transport.Conn, error) // nil for NewClient
	id     uint64                                        // for at-most-once calls
	epoch  atomic.Uint64                                 // server incarnation last heard of; 0 if unknown
	stats  counters
	bufs   bufPool
	calls  sync.Pool // *pendingCall, recycled

	// life is cancelled by Close; it is the client's lifetime, not a
	// request's, and only ever used to cut a dial short.
	life    context.Context
	closeFn context.CancelFunc
	wg      sync.WaitGroup // read loops and Go's goroutines

	mu       sync.Mutex // protects the fields below
	cc       *clientConn
	lastErr  error         // why the last connection ended, for NewClient clients
	dialing  chan struct{} // closed when the dial in progress ends; nil if none
	pending  map[uint64]*pendingCall
	nextSeq  uint64        // the next call's sequence number
	low      uint64        // every call below low has finished
	lowMoved chan struct{} // closed when low moves; nil if no one waits
	closed   bool
}

// pendingCall is a call waiting for its reply.
type pendingCall struct {
	seq  uint64
	done chan replyMsg // size 1: the first reply; later copies are dropped
}

type replyMsg struct {
	cc   *clientConn // the conn it came on
	h    replyHeader
	body []byte
}

// NewClient returns a client that calls over c, and owns it: Close closes
// c. opts configure it: see ClientOption.
// If c fails, every later call fails with an error matching ErrConnLost (or
// ErrServerClosed, if the server said goodbye): use Dial for a client that
// reconnects.
func NewClient(c transport.Conn, opts ...ClientOption) *Client {
	return newClient(newClientOptions(opts), c, nil)
}

// Dial connects to the server at addr and returns a client for it. It
// connects over TCP, or through the dialer given with WithDialer (TLS, a
// simulated network, ...), blocking until connected or ctx ends. The
// client redials when its connection is lost. opts configure it: see
// DialOption.
func Dial(ctx context.Context, addr string, opts ...DialOption) (*Client, error) {
	o := newDialOptions(opts)
	d := o.dialer
	dial := func(ctx context.Context) (transport.Conn, error) { return d.Dial(ctx, addr) }
	conn, err := dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("rpc: dial %s: %w", addr, err)
	}
	return newClient(o.clientOptions, conn, dial), nil
}

func newClient(o clientOptions, conn transport.Conn, dial func(context.Context) (transport.Conn, error)) *Client {
	c := &Client{
		opts:    o,
		errs:    newErrorTable(o.errs),
		dial:    dial,
		id:      randomID(),
		pending: make(map[uint64]*pendingCall),
		nextSeq: 1,
		low:     1,
	}
	c.life, c.closeFn = context.WithCancel(context.Background())
	if len(o.interceptors) > 0 {
		c.invoke = chainClient(o.interceptors, func(ctx context.Context, call *Call) error {
			return c.do(ctx, call.Method, call.Args, call.Reply, call.Metadata, &call.ReplyMetadata)
		})
	}
	c.mu.Lock()
	c.startConn(conn)
	c.mu.Unlock()
	return c
}

// Call calls method ("Service.Method") with args, decodes the result into
// reply (a pointer, or nil to discard the result), and returns the error.
// reply is set to its zero value before decoding, so it holds exactly what
// the server sent. It blocks until the reply
// arrives, the call fails, ctx ends, or the client is closed, whichever is
// first: it returns by ctx's deadline whatever the network does, and the
// deadline travels to the server, where it bounds the handler's context.
//
// Errors match (errors.Is, errors.As): ctx.Err() if ctx ended; ErrClosed if
// the client was closed; ErrConnLost or ErrServerClosed if the connection
// ended first; *RemoteError if the server answered with an error (the
// handler's, or a refusal such as ErrUnknownMethod). Only a *RemoteError
// with a refusal, or ErrClosed before the call began, mean the handler did
// not run: after a timeout or a lost connection it may have run, or may yet
// run. A call abandoned by ctx does not disturb the others on the
// connection.
func (c *Client) Call(ctx context.Context, method string, args, reply any) error {
	if c.invoke == nil {
		return c.do(ctx, method, args, reply, nil, nil)
	}
	return c.invoke(ctx, &Call{Method: method, Args: args, Reply: reply})
}

// Go starts a call like Call, without waiting for it, and returns its
// *Call. When the call completes, its Error is set and it is sent on done;
// if done is nil, Go makes a channel with room for one (call.Done). done
// must have room for every call that will be sent on it: a call that finds
// it full is dropped, as in net/rpc. Go panics if done is unbuffered.
func (c *Client) Go(ctx context.Context, method string, args, reply any, done chan *Call) *Call {
	if done == nil {
		done = make(chan *Call, 1)
	} else if cap(done) == 0 {
		panic("rpc: Go: done channel is unbuffered")
	}
	call := &Call{Method: method, Args: args, Reply: reply, Done: done}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		call.Error = ErrClosed
		call.complete()
		return call
	}
	c.wg.Add(1) // under mu, so never after Close began to wait
	c.mu.Unlock()
	go func() { // exits when the call completes, which Close forces
		defer c.wg.Done()
		if c.invoke == nil {
			call.Error = c.do(ctx, method, args, reply, nil, &call.ReplyMetadata)
		} else {
			call.Error = c.invoke(ctx, call)
		}
		call.complete()
	}()
	return call
}

func (call *Call) complete() {
	select {
	case call.Done <- call:
	default: // no room: dropped, as documented
	}
}

// Close closes the connection and makes every pending call return ErrClosed.
// Before closing, it tells the server, which cancels the contexts of the
// client's calls still running there. It waits for the client's goroutines
// to end. Close is idempotent; calls made after it return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	cc := c.cc
	c.cc = nil
	c.closeFn() // pending calls select on c.life.Done()
	c.mu.Unlock()
	if cc != nil {
		cc.goAway()
	}
	c.wg.Wait()
	return nil
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats { return c.stats.snapshot() }

// do makes one call and counts it.
func (c *Client) do(ctx context.Context, method string, args, reply any, md Metadata, replyMD *Metadata) error {
	c.stats.calls.Add(1)
	err := c.roundTrip(ctx, method, args, reply, md, replyMD)
	if err != nil {
		c.stats.errors.Add(1)
	}
	return err
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

// register makes a new pending call. With WithRetry it first waits, if
// need be, until the call fits in the window (see RetryPolicy.Window).
func (c *Client) register(ctx context.Context) (*pendingCall, error) {
	p, _ := c.calls.Get().(*pendingCall)
	if p == nil {
		p = &pendingCall{done: make(chan replyMsg, 1)}
	}
	c.mu.Lock()
	for {
		if c.closed {
			c.mu.Unlock()
			c.calls.Put(p)
			return nil, ErrClosed
		}
		if c.opts.retry == nil || c.nextSeq-c.low < uint64(c.opts.retry.Window) {
			break
		}
		if c.lowMoved == nil {
			c.lowMoved = make(chan struct{})
		}
		moved := c.lowMoved
		c.mu.Unlock()
		select {
		case <-moved:
		case <-ctx.Done():
			c.calls.Put(p)
			return nil, ctx.Err()
		case <-c.life.Done():
			c.calls.Put(p)
			return nil, ErrClosed
		}
		c.mu.Lock()
	}
	p.seq = c.nextSeq
	c.nextSeq++
	c.pending[p.seq] = p
	c.mu.Unlock()
	return p, nil
}

// unregister ends a pending call and recycles it.
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
	var moved chan struct{}
	if c.low != low {
		moved, c.lowMoved = c.lowMoved, nil
	}
	c.mu.Unlock()
	if moved != nil {
		close(moved) // wake the calls waiting for the window
	}
	// deliver sends only under c.mu to calls in pending, so nothing more
	// can arrive; drop a reply that came after the caller stopped waiting.
	select {
	case <-p.done:
	default:
	}
	c.calls.Put(p)
}

// ack returns the lowest sequence number of a call still pending.
func (c *Client) ack() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.low
}
