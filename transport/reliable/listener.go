package reliable

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// Backlog is how many connections a Listener holds for Accept. A CONNECT
// arriving while the backlog is full is ignored; the dialer sends it again.
const Backlog = 128

// MaxHalfOpen is how many half-open connections a Listener keeps: made for
// a CONNECT, but not yet heard from again (a dialer acknowledges the ACCEPT
// at once, so it is half-open for a round trip). A CONNECT arriving while
// MaxHalfOpen are half-open is ignored, as one arriving while the backlog
// is full; the dialer sends it again. A half-open connection that hears
// nothing for two epochs is dropped. So a flood of CONNECTs from addresses
// that never answer (forged ones, say) holds at most MaxHalfOpen sessions,
// for a second or so each, not one per datagram.
const MaxHalfOpen = 128

// Listener accepts reliable connections on one packet socket, which serves
// all of them: packets are told apart by connection ID.
//
// Accept is safe for concurrent use. Closing the Listener stops new
// connections but does not close the ones accepted: the socket stays open
// until the last of them is closed too.
type Listener struct {
	sock         *socket
	accepted     chan *Conn // buffered, Backlog: connections the handshake made, waiting for Accept
	closing      chan struct{}
	closeStarted atomic.Bool // elects the Close that does the work; see Conn.Close
	closeDone    chan struct{}
}

var _ transport.Listener = (*Listener)(nil)

// Listen opens a UDP socket on addr ("127.0.0.1:0" picks a free port; Addr
// tells which) and accepts reliable connections on it. It returns an error
// matching ErrInvalidConfig if cfg is not valid.
func Listen(addr string, cfg Config) (*Listener, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("reliable: listen %s: %w", addr, err)
	}
	return listen(pc, s), nil
}

// ListenPacket accepts reliable connections on pc: a UDP socket, one
// wrapped by transport.NewFaultyPacketConn, or a simulated one. The
// Listener owns pc, even when it returns an error, and closes it once the
// Listener and every connection it accepted are closed.
func ListenPacket(pc net.PacketConn, cfg Config) (*Listener, error) {
	s, err := cfg.settings()
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	return listen(pc, s), nil
}

func listen(pc net.PacketConn, s settings) *Listener {
	if s.loopbackPeers {
		// A listener cannot know where its dialers are; it accepts the
		// largest packets, and each dialer's smaller PacketSize wins.
		s.packetSize = DefaultLoopbackPacketSize
	}
	l := &Listener{
		accepted:  make(chan *Conn, Backlog),
		closing:   make(chan struct{}),
		closeDone: make(chan struct{}),
	}
	l.sock = newSocket(pc, s, 1)
	l.sock.mu.Lock()
	l.sock.listener = l
	l.sock.mu.Unlock()
	return l
}

// accept makes the connection a new dialer's CONNECT asks for, and queues
// it for Accept. If the backlog is full or MaxHalfOpen connections are
// half-open, it does nothing (the dialer will ask again); if the listener
// has MaxConnections, it reports that the dialer must be refused. The
// caller, the socket's reader, holds sock.mu.
func (l *Listener) accept(p *packet, from address, key peerKey, now time.Time) (refuse bool) {
	m := l.sock
	switch {
	case len(l.accepted) == cap(l.accepted) || m.halfOpen >= MaxHalfOpen:
		return false
	case len(m.conns) >= m.cfg.maxConns:
		return true
	}
	id := m.newConnID()
	sess := newAcceptSession(m.cfg, id, uint32(m.rng.Uint64()), p, now)
	c := newConn(m, sess, from.netAddr(), from)
	c.key, c.halfOpen = key, true
	m.conns[id] = c
	m.peers[key] = c
	m.halfOpen++
	m.refs++
	go c.run()      // exits when the session is over
	l.accepted <- c // never blocks: only this goroutine sends, and there is room
	return false
}

// Accept blocks until a dialer has connected, ctx ends (ctx.Err()) or the
// Listener is closed (transport.ErrClosed, which matches net.ErrClosed).
// The returned transport.Conn is a *Conn.
func (l *Listener) Accept(ctx context.Context) (transport.Conn, error) {
	select {
	case <-l.closing:
		return nil, transport.ErrClosed
	default:
	}
	select {
	case c := <-l.accepted:
		return c, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.closing:
		return nil, transport.ErrClosed
	}
}

// Addr returns the address of the socket.
func (l *Listener) Addr() net.Addr { return l.sock.pc.LocalAddr() }

// Close stops accepting connections and unblocks every blocked Accept.
// Connections made but not yet accepted are reset. Connections accepted
// stay open. Close is idempotent: calls after the first return nil.
func (l *Listener) Close() error {
	if !l.closeStarted.CompareAndSwap(false, true) {
		<-l.closeDone
		return nil
	}
	defer close(l.closeDone)
	close(l.closing)
	l.sock.mu.Lock()
	l.sock.listener = nil
	l.sock.mu.Unlock()
	for drained := false; !drained; {
		select {
		case c := <-l.accepted:
			c.abort()
			_ = c.Close()
		default:
			drained = true
		}
	}
	l.sock.release()
	return nil
}
