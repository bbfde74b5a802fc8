package reliable

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// Dial opens a UDP socket and connects to the listener at addr
// ("host:port"). It blocks until the listener accepts (the handshake is
// done), ctx ends (ctx.Err()), or the listener has not answered for
// Config.EpochLimit epochs (an error matching ErrPeerLost). It returns an
// error matching ErrInvalidConfig if cfg is not valid. The connection owns
// the socket and closes it on Close.
func Dial(ctx context.Context, addr string, cfg Config) (*Conn, error) {
	s, err := cfg.settings()
	if err != nil {
		return nil, err
	}
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("reliable: dial %s: %w", addr, err)
	}
	network := "udp"
	if raddr.IP.To4() != nil {
		network = "udp4" // so that addresses stay plain IPv4, not mapped into IPv6
	}
	pc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("reliable: dial %s: %w", addr, err)
	}
	if s.loopbackPeers && raddr.IP.IsLoopback() {
		s.packetSize = DefaultLoopbackPacketSize
	}
	return dial(ctx, pc, raddr, s)
}

// DialPacket connects over pc, a packet socket that is already open (a UDP
// socket, one wrapped by transport.NewFaultyPacketConn, or a simulated one),
// to the listener at raddr. It blocks like Dial. The connection owns pc,
// even when DialPacket returns an error, and closes it on Close.
func DialPacket(ctx context.Context, pc net.PacketConn, raddr net.Addr, cfg Config) (*Conn, error) {
	s, err := cfg.settings()
	if err != nil {
		_ = pc.Close()
		return nil, err
	}
	if u, ok := raddr.(*net.UDPAddr); ok && s.loopbackPeers && u.IP.IsLoopback() {
		s.packetSize = DefaultLoopbackPacketSize
	}
	return dial(ctx, pc, raddr, s)
}

func dial(ctx context.Context, pc net.PacketConn, raddr net.Addr, s settings) (*Conn, error) {
	sock := newSocket(pc, s, 1)
	sock.mu.Lock()
	nonce := sock.rng.Uint64()
	sess := newDialSession(s, nonce, uint32(sock.rng.Uint64()), time.Now())
	c := newConn(sock, sess, raddr, toAddress(raddr))
	sock.dialing[nonce] = c
	sock.mu.Unlock()
	go c.run() // exits when the session is over

	select {
	case <-c.established:
	case <-ctx.Done():
		c.abort()
		_ = c.Close()
		return nil, ctx.Err()
	}
	c.mu.Lock()
	err := c.sess.err
	c.mu.Unlock()
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("reliable: dial %s: %w", raddr, err)
	}
	return c, nil
}

// NewDialer returns a transport.Dialer whose Dial calls Dial with cfg, for
// code that connects to peers without knowing the transport (a MapReduce
// worker fetching map output, say).
func NewDialer(cfg Config) transport.Dialer {
	return transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
		c, err := Dial(ctx, addr, cfg)
		if err != nil {
			return nil, err // not a nil *Conn in a non-nil interface
		}
		return c, nil
	})
}
