package transport

import (
	"context"
	"net"
)

// Conn is a connection that carries whole messages. A message sent with one
// Send arrives, if it arrives at all, as one Recv: never split, never glued to
// its neighbours. What else is promised (order, delivery) depends on the
// implementation, and each one says so in its documentation; the TCP
// implementation delivers every message exactly once and in order, or fails.
//
// Send is safe for concurrent use by multiple goroutines. Recv is meant for one
// receiver at a time; concurrent Recv calls are serialized. Close may be called
// at any time from any goroutine.
type Conn interface {
	// Send queues msg for delivery to the peer. It may return before the
	// message has left the machine; it blocks only while the connection's
	// send buffer is full, and returns ctx.Err() if ctx ends first. Send does
	// not retain msg after it returns. A message larger than the connection's
	// maximum is refused with an error matching ErrMessageTooLarge.
	Send(ctx context.Context, msg []byte) error

	// Recv blocks until a message arrives, the peer closes the connection
	// (io.EOF), the connection fails, or ctx ends (ctx.Err()). A Recv
	// cancelled by ctx loses nothing: the next Recv returns the next message.
	// The returned slice belongs to the caller.
	Recv(ctx context.Context) ([]byte, error)

	// LocalAddr returns the local network address, if known.
	LocalAddr() net.Addr

	// RemoteAddr returns the remote network address, if known.
	RemoteAddr() net.Addr

	// Close closes the connection. It unblocks every blocked Send and Recv,
	// which return an error matching ErrClosed (and net.ErrClosed). Close is
	// idempotent: calls after the first return nil.
	Close() error
}

// Listener accepts message connections.
//
// Accept is safe for concurrent use; concurrent calls are serialized. Closing
// a Listener does not close the connections it has accepted.
type Listener interface {
	// Accept blocks until a peer connects, the listener is closed (an error
	// matching ErrClosed and net.ErrClosed) or ctx ends (ctx.Err()).
	Accept(ctx context.Context) (Conn, error)

	// Addr returns the address the listener accepts connections on.
	Addr() net.Addr

	// Close stops the listener and unblocks every blocked Accept. It is
	// idempotent: calls after the first return nil.
	Close() error
}

// RecvInto receives the next message from c, as c.Recv does, into the
// caller's memory when it can: a Conn with a method
//
//	RecvInto(ctx context.Context, buf []byte) ([]byte, error)
//
// (the stream conns of NewConn, DialTCP and ListenTCP have one) stores the
// message in buf's memory when it fits in cap(buf), and returns buf[:n]. So
// a receiver that passes the same buffer again and again receives without
// allocating:
//
//	var buf []byte
//	for {
//		msg, err := transport.RecvInto(ctx, c, buf)
//		if err != nil {
//			return err
//		}
//		handle(msg) // must be done with msg before the next RecvInto
//		buf = msg   // reuse its memory (it grows to the largest message)
//	}
//
// A message that does not fit, and every message of a Conn without the
// method, comes in new memory, as Recv returns it. Either way the result
// belongs to the caller, and is valid until the caller passes its memory to
// RecvInto again. RecvInto blocks and fails as Recv does.
func RecvInto(ctx context.Context, c Conn, buf []byte) ([]byte, error) {
	if r, ok := c.(interface {
		RecvInto(ctx context.Context, buf []byte) ([]byte, error)
	}); ok {
		return r.RecvInto(ctx, buf)
	}
	return c.Recv(ctx)
}

// Dialer opens message connections to an address. Each transport provides
// one; code that must connect to peers (a MapReduce reducer fetching map
// output, say) takes a Dialer so that it runs unchanged over TCP, reliable
// UDP or the simulator.
type Dialer interface {
	// Dial connects to addr. It blocks until the connection is established
	// or fails, or ctx ends.
	Dial(ctx context.Context, addr string) (Conn, error)
}

// DialerFunc adapts a function to the Dialer interface.
type DialerFunc func(ctx context.Context, addr string) (Conn, error)

// Dial calls f(ctx, addr).
func (f DialerFunc) Dial(ctx context.Context, addr string) (Conn, error) { return f(ctx, addr) }
