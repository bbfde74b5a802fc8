package netsim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/distsys-kit/distsys/internal/room"
	"github.com/distsys-kit/distsys/transport"
)

// conn is one end of a simulated connection. The two ends of a connection
// are two conns, each the other's peer; what one sends arrives in the
// other's queue. A conn starts no goroutines: delayed messages travel
// through the network's delivery goroutine.
type conn struct {
	n      *Network
	id     uint64
	local  *node
	remote *node
	inc    uint64 // local's incarnation when the conn was made
	out    *link  // local -> remote
	peer   *conn

	readable chan struct{} // size 1: a message, end of stream or reset arrived
	stop     chan struct{} // closed when this end can no longer send (closed or reset)

	// Guarded by n.mu:
	queue    fifo[[]byte] // messages arrived and not yet received
	used     int          // bytes sent to this end, not yet received or lost: the window in use
	room     room.Cond    // Sends to this end waiting for used to shrink
	lastAt   time.Time    // the latest arrival time of a message sent to this end
	eof      bool         // the peer's end-of-stream mark arrived
	reset    bool         // the peer answered with a reset
	closed   bool
	closeErr error  // what calls return once closed
	stopped  bool   // stop is closed
	seq      uint64 // messages sent by this end
}

var _ transport.Conn = (*conn)(nil)

// connect makes a connection between from and to and returns its two
// ends. The caller holds n.mu.
func (n *Network) connect(from, to *node) (client, server *conn) {
	client = n.newEnd(from, to)
	server = n.newEnd(to, from)
	client.peer, server.peer = server, client
	return client, server
}

func (n *Network) newEnd(local, remote *node) *conn {
	c := &conn{
		n:        n,
		id:       n.nextConnID(),
		local:    local,
		remote:   remote,
		inc:      local.incarnation,
		out:      n.link(local.name, remote.name),
		readable: make(chan struct{}, 1),
		stop:     make(chan struct{}),
	}
	local.conns[c] = struct{}{}
	return c
}

// Send copies msg and hands it to the network, which delivers it to the
// peer subject to the link's faults, partitions and crashes; a nil error
// means "sent", not "delivered", as on a real network. Send blocks while
// the peer's window is full (see WithWindow) or the link's queue is (see
// Limits); it returns ctx.Err() if ctx ends first. It returns an error
// matching transport.ErrMessageTooLarge for a message over the maximum
// (WithMaxMessageSize), ErrConnReset after the peer reset the conn, and
// after Close an error matching transport.ErrClosed: transport.ErrClosed
// itself, ErrCrashed or ErrNetworkClosed.
func (c *conn) Send(ctx context.Context, msg []byte) error {
	n := c.n
	if len(msg) > n.opts.maxMessage {
		return fmt.Errorf("%w: %d bytes, limit is %d", transport.ErrMessageTooLarge, len(msg), n.opts.maxMessage)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	n.mu.Lock()
	for {
		if err := c.sendErr(); err != nil {
			n.mu.Unlock()
			return err
		}
		var err error
		if p := c.peer; p.used > 0 && p.used+len(msg) > n.opts.window {
			// The peer's window is full: Recv makes room.
			err = p.room.Wait(ctx, &n.mu, c.stop)
		} else if wait := c.out.queueWait(len(msg), time.Now()); wait > 0 {
			// The link's queue is full: time makes room, as the link
			// sends what it holds at its bandwidth.
			err = c.sleep(ctx, wait)
		} else {
			break
		}
		if err != nil {
			n.mu.Unlock()
			return err
		}
	}
	c.seq++
	it := item{kind: kindMessage, link: c.out, fromInc: c.inc, dst: c.peer, srcID: c.id, seq: c.seq}
	n.transmit(it, bytes.Clone(msg), time.Now())
	n.mu.Unlock()
	n.flush()
	return nil
}

// sendErr returns why c cannot send, or nil. The caller holds n.mu.
func (c *conn) sendErr() error {
	switch {
	case c.closed:
		return c.closeErr
	case c.reset:
		return ErrConnReset
	}
	return nil
}

// sleep releases n.mu, which the caller holds, for d, or until c stops or
// ctx ends; then it locks n.mu again. It returns ctx.Err() if ctx ended.
// (Not room.Cond: no one broadcasts when a link's queue drains, because
// the queue is only a departure time, and time drains it.)
func (c *conn) sleep(ctx context.Context, d time.Duration) error {
	c.n.mu.Unlock()
	defer c.n.mu.Lock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.stop:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Recv returns the next message that arrived, blocking until one does. It
// returns io.EOF once the peer has closed its end and every message it
// sent before that has been received (or lost); ErrConnReset after the
// messages that arrived before a reset; ctx.Err() if ctx ends first, taking
// nothing; and after Close an error matching transport.ErrClosed. If the
// peer's node crashed, or a partition separates the two, nothing arrives
// and Recv waits until ctx ends.
func (c *conn) Recv(ctx context.Context) ([]byte, error) {
	n := c.n
	n.mu.Lock()
	for {
		if c.closed {
			err := c.closeErr
			n.mu.Unlock()
			return nil, err
		}
		if c.queue.len() > 0 {
			msg := c.queue.pop()
			c.release(len(msg))
			if c.queue.len() > 0 || c.eof || c.reset {
				signal(c.readable) // for a concurrent Recv
			}
			n.mu.Unlock()
			n.flush()
			return msg, nil
		}
		switch {
		case c.reset:
			n.mu.Unlock()
			return nil, ErrConnReset
		case c.eof:
			n.mu.Unlock()
			return nil, io.EOF
		}
		n.mu.Unlock()
		select {
		case <-c.readable:
		case <-c.stop:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		n.mu.Lock()
	}
}

// release gives size bytes of c's window back to the peer's sender. The
// caller holds n.mu.
func (c *conn) release(size int) {
	c.used -= size
	c.room.Broadcast()
}

// stopSending closes c.stop, once. The caller holds n.mu.
func (c *conn) stopSending() {
	if !c.stopped {
		c.stopped = true
		close(c.stop)
	}
}

// LocalAddr returns the address of the node this end is on.
func (c *conn) LocalAddr() net.Addr { return Addr(c.local.name) }

// RemoteAddr returns the address of the peer's node.
func (c *conn) RemoteAddr() net.Addr { return Addr(c.remote.name) }

// Close closes this end: blocked and later calls return
// transport.ErrClosed, unread messages are discarded, and an end-of-stream
// mark follows the messages already sent, so the peer reads them and then
// io.EOF (unless a partition or crash loses the mark). Messages that reach
// a closed end are answered with a reset. Close is idempotent and returns
// nil.
func (c *conn) Close() error {
	n := c.n
	n.mu.Lock()
	if !c.closed {
		n.closeEnd(c, transport.ErrClosed)
		if !c.reset {
			n.sendEOF(c, time.Now())
		}
	}
	n.mu.Unlock()
	n.flush()
	return nil
}

// closeEnd closes c with err, discarding its unread messages. The caller
// holds n.mu.
func (n *Network) closeEnd(c *conn, err error) {
	if c.closed {
		return
	}
	c.closed = true
	c.closeErr = err
	c.stopSending()
	size := 0
	for _, m := range c.queue.drain() {
		size += len(m)
	}
	c.release(size)
	delete(c.local.conns, c)
}
