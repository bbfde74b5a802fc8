package reliable

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/internal/room"
	"github.com/distsys-kit/distsys/transport"
)

// Conn is one end of a reliable connection over UDP. It delivers every
// message sent exactly once, whole and in the order sent, or reports that
// it cannot: lost, duplicated, reordered, corrupted and truncated datagrams
// are all repaired or discarded below it. See the package documentation
// for the protocol and its guarantees.
//
// Send is safe for concurrent use by multiple goroutines; Recv is meant for
// one receiver at a time (concurrent calls are serialized); Close may be
// called at any time from any goroutine.
type Conn struct {
	sock  *socket
	raddr net.Addr
	dest  address // raddr, as sock writes to it
	nonce uint64  // the handshake nonce, to find c in sock.dialing
	key   peerKey // listener side: c's key in sock.peers

	halfOpen bool // guarded by sock.mu: listener side, nothing heard since the CONNECT

	// mu protects sess, room, closed and shook. The loop goroutine, the
	// socket's reader, Send and Recv all reach the session through it;
	// none holds it while writing to the socket or waiting.
	mu     sync.Mutex
	sess   *session
	room   room.Cond // Sends waiting for room in the send queue; wake broadcasts
	closed bool      // Close has been called
	shook  bool      // established is closed

	kick        chan struct{} // size 1: something for the loop to do
	readable    chan struct{} // size 1: something for Recv to read
	established chan struct{} // closed when the handshake is over, either way
	closing     chan struct{} // closed by Close: unblocks Send and Recv
	loopDone    chan struct{} // closed when run returns
	rlock       chan struct{} // size 1: held by the Recv in progress

	// closeStarted elects the one Close that does the work; the others
	// wait for closeDone. (Not sync.Once: a goroutine waiting on its
	// mutex is not durably blocked, so a second Close inside a
	// testing/synctest bubble would hang it.)
	closeStarted atomic.Bool
	closeDone    chan struct{}
}

var _ transport.Conn = (*Conn)(nil)

func newConn(sock *socket, sess *session, raddr net.Addr, dest address) *Conn {
	return &Conn{
		sock: sock, sess: sess, raddr: raddr, dest: dest, nonce: sess.nonce,
		kick:        make(chan struct{}, 1),
		readable:    make(chan struct{}, 1),
		established: make(chan struct{}),
		closing:     make(chan struct{}),
		loopDone:    make(chan struct{}),
		rlock:       make(chan struct{}, 1),
		closeDone:   make(chan struct{}),
	}
}

// run is the connection's loop: it ticks the session's timers and sends
// what the session wants sent, until the session is over.
func (c *Conn) run() {
	defer close(c.loopDone)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		now := time.Now()
		c.sess.tick(now)
		out := c.sess.flush(now)
		more := c.sess.pending()
		deadline := c.sess.deadline()
		over := c.sess.terminal() && !more
		var id uint64
		var finalAck []byte
		if over {
			id, finalAck = c.sess.connID, c.sess.finalAck()
		}
		c.wake()
		c.mu.Unlock()

		// out stays ours until the next flush, which only this loop calls.
		for _, b := range out {
			c.sock.write(b, c.dest)
		}
		if over {
			c.sock.forget(c, id, finalAck, now)
			return
		}
		if more {
			continue
		}
		timer.Reset(deadline.Sub(now))
		select {
		case <-c.kick:
		case <-timer.C:
		}
	}
}

// receive steps the session with a packet from the socket's reader.
func (c *Conn) receive(p *packet, now time.Time) {
	c.mu.Lock()
	c.sess.step(p, now)
	c.wake()
	c.mu.Unlock()
	c.poke()
}

// fail ends the session with err (unless it is over already).
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if !c.sess.terminal() {
		c.sess.fail(err)
	}
	c.wake()
	c.mu.Unlock()
	c.poke()
}

// abort gives the connection up, telling the peer with a RESET.
func (c *Conn) abort() {
	c.mu.Lock()
	c.sess.abort()
	c.wake()
	c.mu.Unlock()
	c.poke()
}

// poke wakes the loop.
func (c *Conn) poke() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// wake tells waiting callers what changed. The caller holds c.mu.
func (c *Conn) wake() {
	s := c.sess
	if s.readable() {
		select {
		case c.readable <- struct{}{}:
		default:
		}
	}
	if s.terminal() || s.state == stateOpen && s.canWrite(0) {
		c.room.Broadcast()
	}
	if !c.shook && s.state != stateConnecting {
		c.shook = true
		close(c.established)
	}
}

// Send queues msg for delivery and returns; it does not wait for the peer
// to acknowledge it. It blocks while WindowSize segments already wait to be
// sent, until there is room, ctx ends (ctx.Err()) or the connection is
// closed (transport.ErrClosed). It returns an error matching
// transport.ErrMessageTooLarge for a message over this end's or the peer's
// MaxMessageSize, ErrPeerClosed once the peer has closed, and ErrPeerLost
// or ErrPeerReset once the connection has failed. Send copies msg.
func (c *Conn) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	buf := append([]byte(nil), msg...) // copied outside the lock
	c.mu.Lock()
	for {
		if c.closed {
			c.mu.Unlock()
			return transport.ErrClosed
		}
		if err := c.sess.writeErr(len(msg)); err != nil {
			c.mu.Unlock()
			return err
		}
		if c.sess.canWrite(len(msg)) {
			break
		}
		if err := c.room.Wait(ctx, &c.mu, c.closing); err != nil {
			c.mu.Unlock()
			return err
		}
	}
	c.sess.write(buf)
	c.mu.Unlock()
	c.poke()
	return nil
}

// Recv returns the next message, in the order sent. It blocks until one
// arrives, or returns io.EOF once the peer has closed and every message it
// sent has been read, ErrPeerLost or ErrPeerReset (after the messages that
// arrived before) if the connection failed, transport.ErrClosed after
// Close, or ctx.Err() when ctx ends. A Recv cancelled by ctx loses nothing.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) {
	select {
	case c.rlock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.closing:
		return nil, transport.ErrClosed
	}
	defer func() { <-c.rlock }()
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, transport.ErrClosed
		}
		msg, err := c.sess.read()
		update := c.sess.pending() // reading opened the window: tell the peer
		c.mu.Unlock()
		if update {
			c.poke()
		}
		if msg != nil || err != nil {
			return msg, err
		}
		select {
		case <-c.readable:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-c.closing:
			return nil, transport.ErrClosed
		}
	}
}

// Close closes the connection in order. It unblocks every blocked Send and
// Recv at once (they return transport.ErrClosed), then sends what is still
// queued, and a FIN after it, and returns when the peer has acknowledged
// everything, or has closed too, or Linger has passed, whichever comes
// first. So messages sent before Close are not lost to a peer that is alive
// and reading: the peer reads them, then io.EOF.
//
// Close returns nil, or an error matching ErrPeerLost or ErrPeerReset if
// the connection failed before the peer acknowledged every message: the
// peer fell silent, restarted, or gave the connection up (its own Linger
// ran out, say). A peer that closes as soon as it has read our FIN is not
// such a failure, even if its last acknowledgement is lost: its socket
// answers our FIN, sent again, with that acknowledgement; or, if the
// socket closed with the connection (a dialer's does), it does not answer
// at all, and Close returns nil when Linger runs out (see Closing in the
// package documentation). If Linger passes first, Close returns nil, as
// TCP's close does. Calls after the first return nil.
func (c *Conn) Close() error {
	if !c.closeStarted.CompareAndSwap(false, true) {
		<-c.closeDone
		return nil
	}
	defer close(c.closeDone)
	c.mu.Lock()
	c.closed = true
	c.sess.close(time.Now())
	c.wake()
	c.mu.Unlock()
	close(c.closing)
	c.poke()
	<-c.loopDone
	c.mu.Lock()
	err := c.sess.closeErr()
	c.mu.Unlock()
	c.sock.release()
	return err
}

// LocalAddr returns the address of the local socket.
func (c *Conn) LocalAddr() net.Addr { return c.sock.pc.LocalAddr() }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.raddr }

// Stats returns what this end of the connection has done so far.
func (c *Conn) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.sess.stats
	st.CongestionWindow = c.sess.snd.cc.window()
	return st
}
