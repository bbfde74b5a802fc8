package reliable

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// fakePacketConn is a packet socket that records what is written to it and
// the buffer sizes asked for. Nothing arrives on it: ReadFrom waits for
// Close.
type fakePacketConn struct {
	mu       sync.Mutex // protects the fields below
	readBuf  []int      // SetReadBuffer calls
	writeBuf []int      // SetWriteBuffer calls
	sent     []sentDatagram

	done chan struct{}
	once sync.Once
}

type sentDatagram struct {
	p  packet
	to string
}

func newFakePacketConn() *fakePacketConn { return &fakePacketConn{done: make(chan struct{})} }

func (f *fakePacketConn) ReadFrom([]byte) (int, net.Addr, error) {
	<-f.done
	return 0, nil, net.ErrClosed
}

func (f *fakePacketConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	var p packet
	if err := decodePacket(append([]byte(nil), b...), &p); err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, sentDatagram{p, addr.String()})
	return len(b), nil
}

// takeSent returns the datagrams written since the last call.
func (f *fakePacketConn) takeSent() []sentDatagram {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sent
	f.sent = nil
	return s
}

func (f *fakePacketConn) SetReadBuffer(n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readBuf = append(f.readBuf, n)
	return nil
}

func (f *fakePacketConn) SetWriteBuffer(n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writeBuf = append(f.writeBuf, n)
	return nil
}

func (f *fakePacketConn) Close() error {
	f.once.Do(func() { close(f.done) })
	return nil
}

func (f *fakePacketConn) LocalAddr() net.Addr {
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
}
func (f *fakePacketConn) SetDeadline(time.Time) error      { return nil }
func (f *fakePacketConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakePacketConn) SetWriteDeadline(time.Time) error { return nil }

// noBuffers hides the buffer methods of the socket it wraps.
type noBuffers struct{ net.PacketConn }

func TestSocketEnlargesKernelBuffersThroughWrappers(t *testing.T) {
	faulty := func(pc net.PacketConn) net.PacketConn {
		fp, err := transport.NewFaultyPacketConn(pc, transport.Faults{Drop: 0.1, Seed: 1})
		require.NoError(t, err)
		return fp
	}
	tests := []struct {
		name string
		wrap func(net.PacketConn) net.PacketConn
		want []int
	}{
		{"Bare", func(pc net.PacketConn) net.PacketConn { return pc }, []int{socketBuffer}},
		{"FaultyPacketConn", faulty, []int{socketBuffer}},
		{"NoBufferMethods", func(pc net.PacketConn) net.PacketConn { return noBuffers{pc} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner := newFakePacketConn()
			l, err := ListenPacket(tt.wrap(inner), Config{})
			require.NoError(t, err)
			require.NoError(t, l.Close())
			assert.Equal(t, tt.want, inner.readBuf, "SetReadBuffer calls")
			assert.Equal(t, tt.want, inner.writeBuf, "SetWriteBuffer calls")
		})
	}
}

// timeWaitSocket returns a socket over a fake packet socket, and a
// record of connection 7, closed after the FIN of the peer at peer's
// address, made at now.
func timeWaitSocket(t *testing.T, now time.Time) (*socket, *fakePacketConn, address) {
	t.Helper()
	pc := newFakePacketConn()
	m := newSocket(pc, settingsOf(t, Config{}), 1)
	t.Cleanup(m.release)
	peer := toAddress(&net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 7000})
	m.mu.Lock()
	m.rememberClosed(7, peer, appendPacket(nil, &packet{typ: typeAck, connID: 7, ack: 42}), now)
	m.mu.Unlock()
	return m, pc, peer
}

func TestTimeWaitAnswersPeersDataWithFinalAck(t *testing.T) {
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	m, pc, peer := timeWaitSocket(t, now)
	fin := &packet{typ: typeData, connID: 7, ack: 1, segs: []segment{{seq: 41, fin: true}}}
	// From the UDP fast path, the address comes without its net.Addr.
	fromPeer := address{ap: peer.ap}

	m.route(fin, fromPeer, now.Add(time.Second))
	sent := pc.takeSent()
	require.Len(t, sent, 1, "the FIN sent again is answered")
	assert.Equal(t, typeAck, sent[0].p.typ)
	assert.Equal(t, uint64(7), sent[0].p.connID)
	assert.Equal(t, uint32(42), sent[0].p.ack, "the final acknowledgement, past the FIN")
	assert.Equal(t, peer.String(), sent[0].to)

	m.route(&packet{typ: typeAck, connID: 7, ack: 1}, fromPeer, now.Add(time.Second))
	assert.Empty(t, pc.takeSent(), "an ACK is not answered: two closed ends would answer each other")

	stranger := toAddress(&net.UDPAddr{IP: net.IPv4(10, 0, 0, 2), Port: 7000})
	m.route(fin, stranger, now.Add(time.Second))
	sent = pc.takeSent()
	require.Len(t, sent, 1)
	assert.Equal(t, typeReset, sent[0].p.typ, "only the peer is answered with the record")

	m.route(fin, fromPeer, now.Add(m.timeWaitFor()-time.Nanosecond))
	sent = pc.takeSent()
	require.Len(t, sent, 1)
	assert.Equal(t, typeAck, sent[0].p.typ, "the record lasts the peer-lost bound")

	m.route(fin, fromPeer, now.Add(m.timeWaitFor()))
	sent = pc.takeSent()
	require.Len(t, sent, 1)
	assert.Equal(t, typeReset, sent[0].p.typ, "then the connection is forgotten")
	m.mu.Lock()
	defer m.mu.Unlock()
	assert.Empty(t, m.closed, "the expired record was dropped")
	assert.Zero(t, m.closedOrder.len())
}

func TestTimeWaitRecordsBounded(t *testing.T) {
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	m, pc, peer := timeWaitSocket(t, now) // connection 7 is the oldest
	ack := appendPacket(nil, &packet{typ: typeAck, connID: 8, ack: 1})
	m.mu.Lock()
	for id := range uint64(maxTimeWait) {
		m.rememberClosed(1000+id, peer, ack, now.Add(time.Millisecond))
	}
	assert.Len(t, m.closed, maxTimeWait)
	assert.Equal(t, maxTimeWait, m.closedOrder.len())
	assert.Nil(t, m.closed[7], "the oldest record made room")
	m.mu.Unlock()

	fin := &packet{typ: typeData, connID: 7, segs: []segment{{seq: 41, fin: true}}}
	m.route(fin, peer, now.Add(time.Second))
	sent := pc.takeSent()
	require.Len(t, sent, 1)
	assert.Equal(t, typeReset, sent[0].p.typ)
}

func TestFinalAckOnlyAfterPeersFin(t *testing.T) {
	h := newHarness(t, Config{})
	h.client.write([]byte("last words"))
	h.client.close(h.now)
	h.exchange()
	require.Equal(t, stateClosed, h.client.state)
	assert.Nil(t, h.client.finalAck(), "closed first, and its FIN acknowledged: the peer waits for nothing")
	assert.Nil(t, h.server.finalAck(), "still open")

	h.server.close(h.now)
	require.Equal(t, stateClosed, h.server.state)
	var p packet
	require.NoError(t, decodePacket(h.server.finalAck(), &p))
	assert.Equal(t, typeAck, p.typ)
	assert.Equal(t, uint64(testID), p.connID)
	assert.Equal(t, uint32(clientISN+2), p.ack, "past the message and the FIN")

	failed := newHarness(t, Config{})
	failed.client.close(failed.now)
	failed.exchange()
	failed.server.abort()
	assert.Nil(t, failed.server.finalAck(), "a connection that failed keeps no record")
}
