package netsim

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// listener accepts the conns dialed to its node.
type listener struct {
	n     *Network
	node  *node
	ready chan struct{} // size 1: a conn was queued
	stop  chan struct{} // closed when the listener closes

	// Guarded by n.mu:
	backlog  fifo[*conn] // dialed, not yet accepted
	closed   bool
	closeErr error
}

var _ transport.Listener = (*listener)(nil)

// Listen starts accepting conns on node; the node's name is the address
// to dial. A node has at most one listener at a time: Listen returns
// ErrAddrInUse while one is open, ErrCrashed on a crashed node,
// ErrNetworkClosed after Close, and ErrInvalidNode for an empty name.
//
// The listener's Accept returns conns in the order they were dialed, and
// blocks until one is, the listener closes or ctx ends. Closing the
// listener resets the conns dialed but not accepted, and leaves the
// accepted ones open. It is safe for concurrent use.
func (n *Network) Listen(node string) (transport.Listener, error) {
	if err := checkNode(node); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, ErrNetworkClosed
	}
	nd := n.node(node)
	switch {
	case nd.crashed:
		return nil, fmt.Errorf("listen %s: %w", node, ErrCrashed)
	case nd.listener != nil:
		return nil, fmt.Errorf("listen %s: %w", node, ErrAddrInUse)
	}
	l := &listener{n: n, node: nd, ready: make(chan struct{}, 1), stop: make(chan struct{})}
	nd.listener = l
	return l, nil
}

// Dial connects from to the node to, which must be listening. The
// handshake takes no simulated time and meets no faults (think of it as
// retried until it gets through): Dial returns as soon as to can be
// reached, with a conn whose messages then meet the faults of the link.
// If to cannot be reached (a partition or Disconnect separates the nodes,
// or to has crashed), Dial waits until it can, or ctx ends: like a TCP
// connect to a silent machine, it is a timeout that ends the wait.
//
// Dial returns ErrConnRefused (wrapped) if to is up and reachable but not
// listening, ErrCrashed if from is crashed, ctx.Err() (wrapped) if ctx
// ends first, ErrNetworkClosed after Close, and ErrInvalidNode for an
// empty name.
//
// The conn, and the one Accept returns at the other end, keep the
// transport.Conn contract:
//
//   - Send copies the message and returns once the network has it: a nil
//     error means "sent", not "delivered". It blocks while the peer's
//     window is full (WithWindow) or the link's queue is (Limits), until
//     ctx ends. Messages over WithMaxMessageSize are refused with an error
//     matching transport.ErrMessageTooLarge.
//   - Recv returns the messages in the order they arrive: on a link whose
//     faults have no Jitter, Reorder or Duplicate (and whose Delay does
//     not shrink meanwhile), the order they were sent. It returns io.EOF
//     after the last message the peer sent before closing, ErrConnReset
//     after the messages that came before a reset, and ctx.Err() if ctx
//     ends first, taking nothing. A crashed or partitioned peer sends
//     nothing, not even EOF: Recv waits until ctx ends.
//   - Close discards unread messages and sends the peer its end-of-stream
//     mark; blocked and later calls return transport.ErrClosed. A message
//     that reaches a closed end resets the sender's conn (ErrConnReset).
//     Crash closes the conns of the node with ErrCrashed, Network.Close
//     with ErrNetworkClosed; both match transport.ErrClosed and
//     net.ErrClosed.
//
// Send and Close are safe for concurrent use; concurrent Recvs share the
// messages between them. The conns start no goroutines.
func (n *Network) Dial(ctx context.Context, from, to string) (transport.Conn, error) {
	if err := checkNode(from); err != nil {
		return nil, err
	}
	if err := checkNode(to); err != nil {
		return nil, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("dial %s -> %s: %w", from, to, err)
		}
		c, wait, err := n.tryDial(from, to)
		if c != nil || err != nil {
			return c, err
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("dial %s -> %s: %w", from, to, ctx.Err())
		}
	}
}

// tryDial connects from to to if it can now. If to cannot be reached, it
// returns a channel that is closed when reachability changes.
func (n *Network) tryDial(from, to string) (transport.Conn, <-chan struct{}, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, nil, ErrNetworkClosed
	}
	src, dst := n.node(from), n.node(to)
	switch {
	case src.crashed:
		return nil, nil, fmt.Errorf("dial %s -> %s: %w", from, to, ErrCrashed)
	case dst.crashed || n.isCut(src, dst) || n.isCut(dst, src):
		return nil, n.changed, nil // Close closes changed too
	case dst.listener == nil:
		return nil, nil, fmt.Errorf("dial %s -> %s: %w", from, to, ErrConnRefused)
	}
	client, server := n.connect(src, dst)
	dst.listener.backlog.push(server)
	signal(dst.listener.ready)
	return client, nil, nil
}

// Dialer returns a transport.Dialer that dials from node from: its
// Dial(ctx, addr) is n.Dial(ctx, from, addr). Code that takes a Dialer
// (an rpc client, a MapReduce worker) runs on the simulated network
// unchanged.
func (n *Network) Dialer(from string) transport.Dialer {
	return transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
		return n.Dial(ctx, from, addr)
	})
}

// Accept returns the next conn dialed to the listener's node.
func (l *listener) Accept(ctx context.Context) (transport.Conn, error) {
	n := l.n
	n.mu.Lock()
	for {
		if l.closed {
			err := l.closeErr
			n.mu.Unlock()
			return nil, err
		}
		if l.backlog.len() > 0 {
			c := l.backlog.pop()
			if l.backlog.len() > 0 {
				signal(l.ready) // for a concurrent Accept
			}
			n.mu.Unlock()
			return c, nil
		}
		n.mu.Unlock()
		select {
		case <-l.ready:
		case <-l.stop:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		n.mu.Lock()
	}
}

// Addr returns the address of the listener's node.
func (l *listener) Addr() net.Addr { return Addr(l.node.name) }

// Close stops the listener: blocked and later Accepts return
// transport.ErrClosed, and conns dialed but not accepted are reset. It is
// idempotent and returns nil.
func (l *listener) Close() error {
	n := l.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closeListener(l, transport.ErrClosed, true)
	return nil
}

// closeListener closes l with err. The conns dialed but not accepted are
// closed too, and their dialers reset if reset is true (a crash resets
// nobody). The caller holds n.mu.
func (n *Network) closeListener(l *listener, err error, reset bool) {
	if l.closed {
		return
	}
	l.closed = true
	l.closeErr = err
	close(l.stop)
	if l.node.listener == l {
		l.node.listener = nil
	}
	now := time.Now()
	for _, c := range l.backlog.drain() {
		n.closeEnd(c, err)
		if reset {
			n.sendReset(c, now)
		}
	}
}
