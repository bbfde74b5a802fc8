package reliable

import (
	"io"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

func TestHandshakeAssignsConnectionID(t *testing.T) {
	s := settingsOf(t, Config{})
	now := time.Now()
	client := newDialSession(s, testNonce, clientISN, now)
	h := &harness{t: t, now: now}

	connect := h.one(client, typeConnect)
	assert.Zero(t, connect.connID, "no ID before the listener assigns one")
	assert.Equal(t, uint64(testNonce), connect.nonce)

	server := newAcceptSession(s, testID, serverISN, connect, now)
	accept := h.one(server, typeAccept)
	assert.Equal(t, uint64(testID), accept.connID)
	assert.Equal(t, uint64(testNonce), accept.nonce, "the nonce ties the ACCEPT to this dial")

	client.step(accept, now)
	assert.Equal(t, stateOpen, client.state)
	assert.Equal(t, uint64(testID), client.connID)
}

func TestAcceptForAnotherDialIgnored(t *testing.T) {
	h := &harness{t: t, now: time.Now()}
	client := newDialSession(settingsOf(t, Config{}), testNonce, clientISN, h.now)
	h.one(client, typeConnect)
	stale := &packet{typ: typeAccept, connID: 99, nonce: testNonce + 1, packetSize: 1400, window: 8, maxMessage: 100}
	client.step(stale, h.now)
	assert.Equal(t, stateConnecting, client.state)
}

func TestConnectRetransmittedWithBackOffUntilAccepted(t *testing.T) {
	cfg := Config{MaxBackOffInterval: 350 * time.Millisecond}
	h := &harness{t: t, now: time.Now()}
	client := newDialSession(settingsOf(t, cfg), testNonce, clientISN, h.now)
	h.one(client, typeConnect)

	// Lost, again and again: resent after 100, 200, then 350 (the cap) ms.
	for _, wait := range []time.Duration{100, 200, 350, 350} {
		h.now = h.now.Add(wait*time.Millisecond - time.Nanosecond)
		client.tick(h.now)
		assert.Empty(t, h.flush(client), "too early")
		h.now = h.now.Add(time.Nanosecond)
		client.tick(h.now)
		h.one(client, typeConnect)
	}
}

func TestDialGivesUpAfterEpochLimitSilentEpochs(t *testing.T) {
	cfg := Config{EpochLength: time.Second, EpochLimit: 3}
	h := &harness{t: t, now: time.Now()}
	client := newDialSession(settingsOf(t, cfg), testNonce, clientISN, h.now)
	for range 2 {
		h.now = h.now.Add(time.Second)
		client.tick(h.now)
		require.Equal(t, stateConnecting, client.state)
	}
	h.now = h.now.Add(time.Second)
	client.tick(h.now)
	assert.Equal(t, stateFailed, client.state)
	assert.ErrorIs(t, client.err, ErrPeerLost)
}

func TestRepeatedConnectAnsweredWithSameAccept(t *testing.T) {
	h := newHarness(t, Config{})
	// The dialer's CONNECT arrives again (its copy of ACCEPT was lost).
	h.deliver(h.server, &packet{typ: typeConnect, nonce: testNonce, isn: clientISN, packetSize: 1400, window: 8, maxMessage: 100})
	accept := h.one(h.server, typeAccept)
	assert.Equal(t, uint64(testID), accept.connID)
	assert.Equal(t, uint32(serverISN), accept.isn)
}

func TestReorderedSegmentsDeliveredInOrder(t *testing.T) {
	h := newHarness(t, smallPackets)
	for _, m := range []string{"a", "b", "c"} {
		h.client.write(msg(m))
	}
	ps := h.flush(h.client)
	require.Len(t, ps, 3)

	h.deliver(h.server, ps[2], ps[1]) // c and b overtake a
	assert.Empty(t, readAll(h.server), "nothing before a")
	ack := h.one(h.server, typeAck)
	assert.Equal(t, uint32(clientISN), ack.ack, "a is still missing")
	assert.Equal(t, []seqRange{{clientISN + 1, clientISN + 3}}, ack.ranges, "b and c arrived")

	h.deliver(h.server, ps[0])
	assert.Equal(t, []string{str("a"), str("b"), str("c")}, readAll(h.server))
}

func TestDuplicateSegmentsDeliveredOnce(t *testing.T) {
	h := newHarness(t, smallPackets)
	h.client.write(msg("once"))
	p := h.one(h.client, typeData)
	h.deliver(h.server, p, p)
	assert.Equal(t, []string{str("once")}, readAll(h.server))
	h.deliver(h.server, p) // a late copy, after the first was read
	assert.Empty(t, readAll(h.server))
	assert.Equal(t, int64(2), h.server.stats.Duplicates)
}

func TestLostSegmentResentWhenALaterOneIsAcknowledged(t *testing.T) {
	h := newHarness(t, smallPackets)
	h.client.snd.sampleRTT(10 * time.Millisecond)
	for _, m := range []string{"a", "b", "c"} {
		h.client.write(msg(m))
	}
	ps := h.flush(h.client)
	require.Len(t, ps, 3)
	h.deliver(h.server, ps[1], ps[2]) // a is lost
	ack := h.one(h.server, typeAck)

	// The ACK arrives at once: a may merely be late, so wait a round trip
	// and a quarter (the reordering window) before sending it again.
	h.deliver(h.client, ack)
	assert.Empty(t, h.flush(h.client))
	h.now = h.now.Add(12*time.Millisecond + 500*time.Microsecond)
	h.client.tick(h.now)
	resent := h.one(h.client, typeData)
	assert.Equal(t, []uint32{clientISN}, segmentsOf([]*packet{resent}))
	assert.Equal(t, int64(1), h.client.stats.FastRetransmits)
	assert.Zero(t, h.client.stats.Timeouts, "found lost long before the timeout")

	h.deliver(h.server, resent)
	assert.Equal(t, []string{str("a"), str("b"), str("c")}, readAll(h.server))
}

func TestRetransmissionTimeoutBacksOffExponentiallyUpToCap(t *testing.T) {
	const maxBackOff = 500 * time.Millisecond
	h := newHarness(t, Config{MaxBackOffInterval: maxBackOff, EpochLength: time.Hour})
	h.client.write([]byte("into the void"))
	h.one(h.client, typeData) // lost, and every copy after it
	rto := h.client.snd.rto

	// Enough timeouts to double past the cap, and stay there a while.
	var waits []time.Duration
	last := h.now
	for capped := 0; capped < 4; {
		h.advance(time.Millisecond)
		if ps := h.flush(h.client); len(ps) > 0 {
			require.Equal(t, []uint32{clientISN}, segmentsOf(ps))
			waits = append(waits, h.now.Sub(last))
			if h.now.Sub(last) >= maxBackOff {
				capped++
			}
			last = h.now
		}
	}
	// The timeout doubles with each expiry in a row, up to the cap.
	want := []time.Duration{rto, 2 * rto, 4 * rto, 8 * rto}
	for len(want) < len(waits) {
		want = append(want, min(2*want[len(want)-1], 500*time.Millisecond))
	}
	for i := range want {
		want[i] = min(want[i].Round(time.Millisecond), 500*time.Millisecond)
	}
	assert.Equal(t, want, waits)

	// An acknowledgement ends the back-off.
	h.deliver(h.server, h.flush(h.client)...)
	h.deliver(h.client, &packet{typ: typeAck, connID: testID, ack: clientISN + 1, window: 100})
	assert.Zero(t, h.client.snd.backoff)
}

// The sender keeps its own window whatever the peer's: here the peer
// accepts the default 4096 segments, and the sender's settings allow four.
// Each limit is tested with the other out of the way (MaxUnackedMessages
// defaults to WindowSize, so it would hide a sender that ignored its
// window).
func TestWindowBoundsSegmentsInFlight(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"WindowSize", Config{PacketSize: MinPacketSize, WindowSize: 4, MaxUnackedMessages: 100}},
		{"MaxUnackedMessages", Config{PacketSize: MinPacketSize, MaxUnackedMessages: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessWith(t, tt.cfg, Config{PacketSize: MinPacketSize})
			for i := range 10 {
				h.client.write(msg(string(rune('a' + i))))
			}
			ps := h.flush(h.client)
			assert.Len(t, ps, 4, "four in flight at most")
			h.deliver(h.server, ps[:2]...)
			readAll(h.server) // so that the receive window is not what limits
			h.deliver(h.client, h.one(h.server, typeAck))
			assert.Len(t, h.flush(h.client), 2, "two acknowledged, two more may go")
		})
	}
}

func TestReceiverWindowStopsSenderUntilAppReads(t *testing.T) {
	h := newHarness(t, Config{PacketSize: MinPacketSize, WindowSize: 4})
	for i := range 6 {
		h.client.write(msg(string(rune('a' + i))))
	}
	h.exchange()
	assert.Equal(t, uint32(clientISN+4), h.server.rcv.next, "four arrived")
	assert.Zero(t, h.server.rcv.advertised(), "and nobody read them: no room")
	assert.Empty(t, h.flush(h.client), "so the sender waits")

	_, err := h.server.read()
	require.NoError(t, err)
	update := h.one(h.server, typeAck) // reading opened the window
	assert.Equal(t, uint32(1), update.window)
	h.deliver(h.client, update)
	assert.Equal(t, []uint32{clientISN + 4}, segmentsOf(h.flush(h.client)))
}

func TestHeartbeatSentAfterSilentEpoch(t *testing.T) {
	h := newHarness(t, Config{EpochLength: time.Second})
	h.exchange()
	h.advance(time.Second) // the first epoch had the handshake
	assert.Empty(t, h.flush(h.client))
	assert.Empty(t, h.flush(h.server))
	h.advance(time.Second) // the second was silent
	hb := h.one(h.client, typeAck)
	assert.Equal(t, uint32(serverISN), hb.ack)
	h.one(h.server, typeAck)
}

func TestNoHeartbeatAfterEpochWithTraffic(t *testing.T) {
	h := newHarness(t, Config{EpochLength: time.Second})
	h.exchange()
	h.advance(500 * time.Millisecond)
	h.client.write([]byte("news"))
	h.deliver(h.server, h.flush(h.client)...)
	h.advance(500 * time.Millisecond)
	for _, p := range h.flush(h.client) {
		assert.NotEqual(t, typeAck, p.typ, "the client spoke in this epoch")
	}
}

func TestPeerLostAfterEpochLimitSilentEpochs(t *testing.T) {
	h := newHarness(t, Config{EpochLength: time.Second, EpochLimit: 5})
	h.exchange()
	h.advance(time.Second) // the epoch of the handshake: not silent
	for range 5 {
		require.Equal(t, stateOpen, h.client.state)
		h.now = h.now.Add(time.Second)
		h.client.tick(h.now)
		h.flush(h.client) // heartbeats, lost
	}
	assert.Equal(t, stateFailed, h.client.state)
	_, err := h.client.read()
	assert.ErrorIs(t, err, ErrPeerLost)
	assert.ErrorIs(t, h.client.writeErr(1), ErrPeerLost)
}

func TestAnyPacketKeepsPeerAlive(t *testing.T) {
	h := newHarness(t, Config{EpochLength: time.Second, EpochLimit: 2})
	for range 10 {
		h.advance(time.Second)
		h.exchange() // heartbeats get through
	}
	assert.Equal(t, stateOpen, h.client.state)
	assert.Equal(t, stateOpen, h.server.state)
}

func TestLongMessageFragmentedAndReassembled(t *testing.T) {
	h := newHarness(t, Config{FixedWindow: true}) // all eleven segments at once
	long := make([]byte, 10*SegmentSize+7)
	for i := range long {
		long[i] = byte(i * 7)
	}
	h.client.write(long)
	ps := h.flush(h.client)
	var lefts []uint32
	for _, p := range ps {
		for _, s := range p.segs {
			lefts = append(lefts, s.left)
		}
	}
	assert.Equal(t, []uint32{10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0}, lefts, "eleven segments, counting down")
	// Delivered backwards, it still comes out whole.
	for i := len(ps) - 1; i >= 0; i-- {
		h.deliver(h.server, ps[i])
		if i > 0 {
			assert.Empty(t, readAll(h.server))
		}
	}
	got, err := h.server.read()
	require.NoError(t, err)
	assert.Equal(t, long, got)
}

func TestSequenceNumbersWrapAround(t *testing.T) {
	s := settingsOf(t, smallPackets)
	h := &harness{t: t, now: time.Now()}
	const isn = math.MaxUint32 - 2 // wraps after three segments
	h.client = newDialSession(s, testNonce, isn, h.now)
	h.server = newAcceptSession(s, testID, serverISN, h.one(h.client, typeConnect), h.now)
	h.deliver(h.client, h.one(h.server, typeAccept))

	var want []string
	for i := range 8 {
		m := msg(string(rune('a' + i)))
		h.client.write(m)
		want = append(want, string(m))
	}
	ps := h.flush(h.client)
	require.Len(t, ps, 8)
	h.deliver(h.server, ps[7], ps[5], ps[3], ps[1]) // odd ones first, across the wrap
	h.deliver(h.server, ps[6], ps[4], ps[2], ps[0])
	assert.Equal(t, want, readAll(h.server))
	assert.Equal(t, uint32(5), h.server.rcv.next)
	h.deliver(h.client, h.one(h.server, typeAck))
	assert.True(t, h.client.snd.allAcked())
}

func TestCloseSendsFinAfterQueuedMessages(t *testing.T) {
	h := newHarness(t, smallPackets)
	h.client.write(msg("last words"))
	h.client.close(h.now)
	assert.Equal(t, stateClosing, h.client.state)
	ps := h.flush(h.client)
	require.Len(t, ps, 2)
	assert.False(t, ps[0].segs[0].fin)
	assert.True(t, ps[1].segs[0].fin, "FIN comes last")

	h.deliver(h.server, ps[1]) // the FIN overtakes the message
	_, err := h.server.read()
	assert.NoError(t, err, "no EOF before the last message")
	h.deliver(h.server, ps[0])
	got, err := h.server.read()
	require.NoError(t, err)
	assert.Equal(t, str("last words"), string(got))
	_, err = h.server.read()
	assert.ErrorIs(t, err, io.EOF)
	assert.ErrorIs(t, h.server.writeErr(1), ErrPeerClosed)

	h.deliver(h.client, h.one(h.server, typeAck))
	assert.Equal(t, stateClosed, h.client.state, "everything acknowledged")
	assert.NoError(t, h.client.closeErr())
}

func TestCloseAfterPeerClosedIsImmediate(t *testing.T) {
	h := newHarness(t, Config{})
	h.client.close(h.now)
	h.exchange()
	require.Equal(t, stateClosed, h.client.state)
	h.server.close(h.now)
	assert.Equal(t, stateClosed, h.server.state, "the peer reads nothing more: nothing to wait for")
}

func TestResetEndsSession(t *testing.T) {
	h := newHarness(t, Config{})
	h.client.write([]byte("unacknowledged"))
	h.flush(h.client)
	h.deliver(h.client, &packet{typ: typeReset, connID: testID + 1})
	require.Equal(t, stateOpen, h.client.state, "a RESET for another connection")
	h.deliver(h.client, &packet{typ: typeReset, connID: testID})
	assert.Equal(t, stateFailed, h.client.state)
	assert.ErrorIs(t, h.client.writeErr(1), ErrPeerReset)
	assert.ErrorIs(t, h.client.closeErr(), ErrPeerReset, "a message was never acknowledged")
}

func TestMessageOverPeerLimitRefused(t *testing.T) {
	s := settingsOf(t, Config{})
	h := &harness{t: t, now: time.Now()}
	h.client = newDialSession(s, testNonce, clientISN, h.now)
	h.one(h.client, typeConnect)
	h.deliver(h.client, &packet{typ: typeAccept, connID: testID, nonce: testNonce, isn: serverISN, packetSize: 1400, window: 64, maxMessage: 1000})
	assert.NoError(t, h.client.writeErr(1000))
	assert.ErrorIs(t, h.client.writeErr(1001), transport.ErrMessageTooLarge)
}

func TestFragmentOutOfSequenceBreaksConnection(t *testing.T) {
	h := newHarness(t, Config{})
	bad := &packet{typ: typeData, connID: testID, ack: serverISN, window: 64, segs: []segment{
		{seq: clientISN, left: 2, data: []byte("first of three")},
		{seq: clientISN + 1, left: 0, data: []byte("claims to be the last")},
	}}
	h.deliver(h.server, bad)
	assert.Equal(t, stateFailed, h.server.state)
	_, err := h.server.read()
	assert.ErrorIs(t, err, ErrProtocol)
}

func TestClosedWindowProbedWhenUpdateLost(t *testing.T) {
	h := newHarness(t, Config{PacketSize: MinPacketSize, WindowSize: 2, EpochLength: time.Hour})
	for i := range 3 {
		h.client.write(msg(string(rune('a' + i))))
	}
	h.exchange()
	require.Zero(t, h.server.rcv.advertised(), "two unread: the window is closed")
	readAll(h.server)
	h.flush(h.server) // the window update is lost

	// After a timeout the client sends one segment beyond the window, and
	// the answer reopens it.
	h.advance(h.client.snd.timeout() - time.Nanosecond)
	require.Empty(t, h.flush(h.client), "too early")
	h.advance(time.Nanosecond)
	probe := h.flush(h.client)
	require.Equal(t, []uint32{clientISN + 2}, segmentsOf(probe))
	h.deliver(h.server, probe...)
	h.deliver(h.client, h.flush(h.server)...)
	assert.Equal(t, []string{str("c")}, readAll(h.server))
	assert.Zero(t, h.client.snd.unsent())
}
