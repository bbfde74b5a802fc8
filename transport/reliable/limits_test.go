package reliable

import (
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A first fragment announcing a message of 16 MiB costs what it carries,
// not 16 MiB: the receiver grows the message as fragments arrive.
func TestFirstFragmentDoesNotReserveTheAnnouncedSize(t *testing.T) {
	h := newHarness(t, Config{})
	left := uint32(DefaultMaxMessageSize/SegmentSize - 1)
	h.deliver(h.server, &packet{typ: typeData, connID: testID, ack: serverISN, window: 64, segs: []segment{
		{seq: clientISN, left: left, data: make([]byte, SegmentSize)},
	}})
	require.Equal(t, stateOpen, h.server.state)
	assert.LessOrEqual(t, cap(h.server.rcv.partial), minPartial, "bytes held for one fragment")
}

// Reassembly grows with the fragments and returns the message whole, at
// sizes around the points where it grows.
func TestReassemblyGrowsWithTheFragments(t *testing.T) {
	for _, n := range []int{minPartial - 1, minPartial + 1, 3 * SegmentSize, 100*SegmentSize + 1} {
		h := newHarness(t, Config{})
		long := make([]byte, n)
		for i := range long {
			long[i] = byte(i * 13)
		}
		h.client.write(long)
		h.exchange()
		got, err := h.server.read()
		require.NoError(t, err)
		require.Equal(t, long, got, "a message of %d bytes", n)
		assert.LessOrEqual(t, cap(got), n+SegmentSize, "no more room than the last fragment could have needed")
	}
}

// floodListener is a listener over a fake packet socket, with the routing
// of its reader called directly by the test, and an Accept that takes
// every connection at once (so the backlog never fills: a server accepting
// as fast as dialers come).
type floodListener struct {
	*Listener
	accepted []*Conn
}

func newFloodListener(t *testing.T, cfg Config) *floodListener {
	cfg.Linger = -1
	l, err := ListenPacket(newFakePacketConn(), cfg)
	require.NoError(t, err)
	f := &floodListener{Listener: l}
	t.Cleanup(func() {
		l.Close()
		for _, c := range f.accepted {
			c.Close()
		}
	})
	return f
}

// connect routes a CONNECT from dialer i and accepts what it made.
func (f *floodListener) connect(i int, now time.Time) {
	p := &packet{typ: typeConnect, nonce: uint64(i + 1), isn: clientISN, packetSize: 1400, window: 64, maxMessage: 1 << 20}
	from := toAddress(&net.UDPAddr{IP: net.IPv4(10, 0, byte(i>>8), byte(i)), Port: 7000})
	f.sock.route(p, from, now)
	for {
		select {
		case c := <-f.Listener.accepted:
			f.accepted = append(f.accepted, c)
		default:
			return
		}
	}
}

func (f *floodListener) counts() (conns, halfOpen int) {
	f.sock.mu.Lock()
	defer f.sock.mu.Unlock()
	return len(f.sock.conns), f.sock.halfOpen
}

func TestConnectFloodHoldsAtMostMaxHalfOpenSessions(t *testing.T) {
	f := newFloodListener(t, Config{})
	now := time.Now()
	for i := range 3 * MaxHalfOpen {
		f.connect(i, now)
	}
	conns, halfOpen := f.counts()
	assert.Equal(t, MaxHalfOpen, conns, "sessions made for dialers never heard from again")
	assert.Equal(t, MaxHalfOpen, halfOpen)
}

func TestListenerRefusesConnectionsBeyondMaxConnections(t *testing.T) {
	f := newFloodListener(t, Config{MaxConnections: 3})
	now := time.Now()
	for i := range 3 {
		f.connect(i, now)
	}
	pc := f.sock.pc.(*fakePacketConn)
	pc.takeSent()
	f.connect(3, now)
	conns, _ := f.counts()
	assert.Equal(t, 3, conns)
	var refusals []packet
	for _, d := range pc.takeSent() {
		if d.p.typ == typeRefuse {
			refusals = append(refusals, d.p)
		}
	}
	require.Len(t, refusals, 1, "the fourth dialer is refused")
	assert.Equal(t, uint64(4), refusals[0].nonce, "naming its CONNECT")
}

func TestRefusedDialFails(t *testing.T) {
	h := &harness{t: t, now: time.Now()}
	client := newDialSession(settingsOf(t, Config{}), testNonce, clientISN, h.now)
	h.one(client, typeConnect)
	client.step(&packet{typ: typeRefuse, nonce: testNonce + 1}, h.now)
	require.Equal(t, stateConnecting, client.state, "a refusal of another dial")
	client.step(&packet{typ: typeRefuse, nonce: testNonce}, h.now)
	assert.Equal(t, stateFailed, client.state)
	assert.ErrorIs(t, client.err, ErrRefused)
}

// The dialer answers ACCEPT at once, so that the listener sees the
// connection established after one round trip.
func TestDialerAcknowledgesAcceptAtOnce(t *testing.T) {
	h := newHarness(t, Config{})
	ack := h.one(h.client, typeAck)
	assert.True(t, h.server.halfOpen())
	h.deliver(h.server, ack)
	assert.False(t, h.server.halfOpen())
}

func TestHalfOpenConnectionDroppedAfterTwoSilentEpochs(t *testing.T) {
	h := newHarness(t, Config{EpochLength: time.Second})
	h.flush(h.client) // the dialer's answer to ACCEPT is lost, and it says nothing more
	h.advance(time.Second)
	h.advance(time.Second)
	require.Equal(t, stateOpen, h.server.state, "one silent epoch")
	h.advance(time.Second)
	assert.Equal(t, stateFailed, h.server.state, "two silent epochs")
	assert.ErrorIs(t, h.server.err, ErrPeerLost)
}

func TestEstablishedConnectionOutlivesTheHalfOpenLimit(t *testing.T) {
	h := newHarness(t, Config{EpochLength: time.Second})
	h.exchange()
	for range DefaultEpochLimit - 1 {
		h.advance(time.Second)
		h.flush(h.client) // heartbeats, lost
	}
	assert.Equal(t, stateOpen, h.server.state)
}
