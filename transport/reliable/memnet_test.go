package reliable_test

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// memNet is an in-memory datagram network for tests: sockets named by
// string, perfect and instant delivery. Faults (loss, delay, reordering...)
// come from transport.NewFaultyPacketConn wrapped around its sockets, so
// inside a testing/synctest bubble everything runs in virtual time.
//
// It stays beside netsim on purpose (netsim_test.go runs the protocol over
// netsim's packet sockets): here the faults come from
// transport.NewFaultyPacketConn, the wrapper that examples/lossy and users
// put around real UDP sockets, so the protocol is tested over that path
// too; and a crash is one socket's, its name free at once for the
// restarted program (crash), where netsim crashes a whole node.
type memNet struct {
	mu    sync.Mutex // protects socks
	socks map[string]*memSocket
}

// memAddr is the address of a memNet socket: its name.
type memAddr string

func (a memAddr) Network() string { return "mem" }
func (a memAddr) String() string  { return string(a) }

type datagram struct {
	b    []byte
	from memAddr
}

// memSocket is one socket of a memNet; it implements net.PacketConn.
type memSocket struct {
	net     *memNet
	addr    memAddr
	in      chan datagram // buffered: the socket's receive buffer; full means drop
	done    chan struct{}
	once    sync.Once
	crashed atomic.Bool // the machine died: nothing in or out, and its name is free
}

const memSocketBuffer = 8192 // datagrams, like a kernel's receive buffer

func newMemNet() *memNet { return &memNet{socks: make(map[string]*memSocket)} }

// listen opens the socket named name; the name must be free.
func (n *memNet) listen(tb testing.TB, name string) *memSocket {
	tb.Helper()
	n.mu.Lock()
	defer n.mu.Unlock()
	require.Nil(tb, n.socks[name], "socket %s already open", name)
	s := &memSocket{net: n, addr: memAddr(name), in: make(chan datagram, memSocketBuffer), done: make(chan struct{})}
	n.socks[name] = s
	return s
}

// faulty opens the socket named name with faults applied to what it sends.
func (n *memNet) faulty(tb testing.TB, name string, f transport.Faults) *transport.FaultyPacketConn {
	tb.Helper()
	fp, err := transport.NewFaultyPacketConn(n.listen(tb, name), f)
	require.NoError(tb, err)
	return fp
}

// crash makes the socket named name vanish as if its machine died: what it
// sends is lost, nothing reaches it any more, and a new socket may take its
// name (the program restarted). Its owner still closes it.
func (n *memNet) crash(name string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.socks[name]; s != nil {
		s.crashed.Store(true)
		delete(n.socks, name)
	}
}

func (s *memSocket) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-s.done:
		return 0, net.ErrClosed
	default:
	}
	if s.crashed.Load() {
		return len(b), nil
	}
	s.net.mu.Lock()
	dst := s.net.socks[addr.String()]
	s.net.mu.Unlock()
	if dst == nil {
		return len(b), nil // nobody there: lost, as UDP would
	}
	select {
	case dst.in <- datagram{append([]byte(nil), b...), s.addr}:
	default: // the receiver's buffer is full: lost
	}
	return len(b), nil
}

func (s *memSocket) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case d := <-s.in:
		return copy(b, d.b), d.from, nil
	case <-s.done:
		return 0, nil, net.ErrClosed
	}
}

// Close closes the socket and frees its name, so that a "restarted" program
// can open it again.
func (s *memSocket) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.net.mu.Lock()
		if s.net.socks[string(s.addr)] == s {
			delete(s.net.socks, string(s.addr))
		}
		s.net.mu.Unlock()
	})
	return nil
}

func (s *memSocket) LocalAddr() net.Addr                { return s.addr }
func (s *memSocket) SetDeadline(t time.Time) error      { return nil }
func (s *memSocket) SetReadDeadline(t time.Time) error  { return nil }
func (s *memSocket) SetWriteDeadline(t time.Time) error { return nil }
