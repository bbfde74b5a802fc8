package transport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// FaultyPacketConn wraps a net.PacketConn, such as a UDP socket, and applies
// Faults to every datagram it writes: like CMU's lspnet, but per socket and
// seeded, never global. Reads pass through untouched; wrap both sockets to
// disturb both directions.
//
// WriteTo reports success for a datagram the faults drop: a UDP sender is
// never told. A delayed datagram is copied and written later by a goroutine
// of the wrapper; Close discards the ones still held back.
//
// FaultyPacketConn is safe for concurrent use.
type FaultyPacketConn struct {
	inner net.PacketConn
	queue *delayQueue[datagram]

	mu     sync.Mutex // protects faults, rng, stats
	faults Faults
	rng    *rand.Rand
	stats  FaultStats
}

type datagram struct {
	b    []byte
	addr net.Addr
}

var _ net.PacketConn = (*FaultyPacketConn)(nil)

// NewFaultyPacketConn returns pc wrapped so that what it writes meets f. The
// wrapper owns pc and closes it on Close. It returns an error matching
// ErrInvalidFaults if f is not valid.
func NewFaultyPacketConn(pc net.PacketConn, f Faults) (*FaultyPacketConn, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	fp := &FaultyPacketConn{inner: pc, faults: f, rng: f.NewRand()}
	fp.queue = newDelayQueue(func(d datagram) {
		_, _ = fp.inner.WriteTo(d.b, d.addr) // a failed write is a lost datagram
	})
	return fp, nil
}

// WriteTo applies the faults to p and writes what survives to addr. It
// returns len(p) and no error for a dropped or delayed datagram.
func (fp *FaultyPacketConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	fp.mu.Lock()
	ds := fp.faults.Plan(fp.rng, p)
	fp.stats.Record(ds)
	fp.mu.Unlock()
	for _, d := range ds {
		if d.Delay > 0 {
			fp.queue.push(d.Delay, datagram{append([]byte(nil), d.Msg...), addr})
			continue
		}
		if _, err := fp.inner.WriteTo(d.Msg, addr); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// ReadFrom reads the next datagram from the wrapped socket.
func (fp *FaultyPacketConn) ReadFrom(p []byte) (int, net.Addr, error) { return fp.inner.ReadFrom(p) }

// Close discards held-back datagrams and closes the wrapped socket.
func (fp *FaultyPacketConn) Close() error {
	fp.queue.close()
	return fp.inner.Close()
}

// LocalAddr returns the wrapped socket's local address.
func (fp *FaultyPacketConn) LocalAddr() net.Addr { return fp.inner.LocalAddr() }

// SetDeadline sets the wrapped socket's deadlines.
func (fp *FaultyPacketConn) SetDeadline(t time.Time) error { return fp.inner.SetDeadline(t) }

// SetReadDeadline sets the wrapped socket's read deadline.
func (fp *FaultyPacketConn) SetReadDeadline(t time.Time) error { return fp.inner.SetReadDeadline(t) }

// SetWriteDeadline sets the wrapped socket's write deadline. It does not
// apply to delayed datagrams, which are written later.
func (fp *FaultyPacketConn) SetWriteDeadline(t time.Time) error {
	return fp.inner.SetWriteDeadline(t)
}

// SetReadBuffer sets the receive buffer of the wrapped socket, if it has
// one (a *net.UDPConn does). A protocol that keeps many datagrams in flight
// needs a bigger buffer than the operating system's default, or the kernel
// drops datagrams on top of the faults.
func (fp *FaultyPacketConn) SetReadBuffer(bytes int) error {
	if s, ok := fp.inner.(interface{ SetReadBuffer(int) error }); ok {
		return s.SetReadBuffer(bytes)
	}
	return fmt.Errorf("transport: %T has no read buffer to set", fp.inner)
}

// SetWriteBuffer sets the send buffer of the wrapped socket, if it has one.
func (fp *FaultyPacketConn) SetWriteBuffer(bytes int) error {
	if s, ok := fp.inner.(interface{ SetWriteBuffer(int) error }); ok {
		return s.SetWriteBuffer(bytes)
	}
	return fmt.Errorf("transport: %T has no write buffer to set", fp.inner)
}

// SetFaults replaces the faults; datagrams written after it returns meet the
// new ones. It returns an error matching ErrInvalidFaults, and changes
// nothing, if f is not valid.
func (fp *FaultyPacketConn) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	fp.mu.Lock()
	fp.faults = f
	fp.mu.Unlock()
	return nil
}

// Stats returns what the faults have done so far.
func (fp *FaultyPacketConn) Stats() FaultStats {
	fp.mu.Lock()
	defer fp.mu.Unlock()
	return fp.stats
}
