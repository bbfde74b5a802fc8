package reliable

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ccHarness is a harness whose client sends 1400-byte packets, each
// carrying one segment of a 1366-byte message: cwnd counts them.
func ccHarness(t *testing.T, client Config) *harness {
	client.PacketSize = DefaultPacketSize
	client.EpochLength = time.Hour
	h := newHarnessWith(t, client, Config{PacketSize: DefaultPacketSize, EpochLength: time.Hour})
	h.client.snd.sampleRTT(10 * time.Millisecond)
	return h
}

// queueMessages queues n messages of one full segment each.
func queueMessages(h *harness, n int) {
	for range n {
		h.client.write(make([]byte, SegmentSize))
	}
}

// flushAll is flush, called again as long as s has more to send now (one
// flush builds at most maxBurst packets).
func (h *harness) flushAll(s *session) []*packet {
	var all []*packet
	for {
		all = append(all, h.flush(s)...)
		if !s.pending() {
			return all
		}
	}
}

// roundTrip delivers what the client sends now, and the server's answer,
// 10 ms later; it returns how many segments went.
func roundTrip(h *harness) int {
	ps := h.flushAll(h.client)
	h.deliver(h.server, ps...)
	readAll(h.server)
	h.now = h.now.Add(10 * time.Millisecond)
	h.deliver(h.client, h.flush(h.server)...)
	return len(segmentsOf(ps))
}

func TestSlowStartDoublesTheWindowEachRoundTrip(t *testing.T) {
	h := ccHarness(t, Config{})
	h.flush(h.client) // the answer to ACCEPT
	queueMessages(h, 1000)
	var sent []int
	for range 4 {
		sent = append(sent, roundTrip(h))
	}
	assert.Equal(t, []int{initialCwnd, 2 * initialCwnd, 4 * initialCwnd, 8 * initialCwnd}, sent)
}

func TestFixedWindowSendsTheWholeWindowAtOnce(t *testing.T) {
	h := ccHarness(t, Config{FixedWindow: true, WindowSize: 100})
	h.flush(h.client)
	queueMessages(h, 1000)
	assert.Equal(t, 100, roundTrip(h))
}

// After a loss, the window is halved once for the round trip, and then
// grows by one packet per round trip (the measured BDP is below half the
// window here: the round trips carried what cwnd allowed, no more).
func TestLossHalvesTheWindowThenItGrowsByOnePacketPerRoundTrip(t *testing.T) {
	h := ccHarness(t, Config{})
	h.flush(h.client)
	queueMessages(h, 2000)
	for range 3 {
		roundTrip(h) // 10, 20, 40 in flight
	}
	ps := h.flushAll(h.client)
	require.Equal(t, 8*initialCwnd, len(ps))
	h.deliver(h.server, ps[1:40]...) // the first and the forty-first are lost
	h.deliver(h.server, ps[41:]...)
	readAll(h.server)
	h.now = h.now.Add(10 * time.Millisecond)
	h.deliver(h.client, h.flush(h.server)...) // slow start goes on: 78 more
	mss := h.client.snd.cc.mss
	require.Equal(t, (8*initialCwnd+78)*mss, h.client.snd.cc.cwnd)

	h.now = h.now.Add(3 * time.Millisecond) // past the reordering window: a round trip and a quarter
	h.client.tick(h.now)
	halved := (8*initialCwnd + 78) * mss / 2
	assert.Equal(t, halved, h.client.snd.cc.cwnd, "halved once, for two losses")
	assert.Equal(t, halved, h.client.snd.cc.ssthresh, "and slow start is over")

	// The two lost segments go again, first; once they are acknowledged
	// the recovery is over, and each round trip adds one packet.
	ps = h.flushAll(h.client)
	assert.Equal(t, []uint32{clientISN + 70, clientISN + 110}, segmentsOf(ps)[:2])
	h.deliver(h.server, ps...)
	readAll(h.server)
	h.now = h.now.Add(10 * time.Millisecond)
	h.deliver(h.client, h.flush(h.server)...)
	require.False(t, h.client.snd.cc.recovering)
	for range 2 {
		roundTrip(h)
	}
	assert.Equal(t, halved+3*mss, h.client.snd.cc.cwnd)
}

// A loss cuts the window to half, but not below the path's measured
// bandwidth-delay product: the loss of a link that drops packets at
// random, with no queue filling up, leaves the window as it was.
func TestLossCutsToTheMeasuredBDPNotBelow(t *testing.T) {
	const mss = 1000
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	c := newCongestion(false, 4096, mss)
	c.onRTT(10*time.Millisecond, start)
	c.measure(0, start, 10*time.Millisecond)
	c.measure(100_000, start.Add(10*time.Millisecond), 10*time.Millisecond) // 10 MB/s
	require.Equal(t, 100_000, c.bdp(), "10 MB/s × 10 ms")

	c.cwnd = 150_000
	c.onLoss(0)
	assert.Equal(t, 100_000, c.cwnd, "the BDP, more than half")

	c.cwnd, c.recovering = 300_000, false
	c.onLoss(0)
	assert.Equal(t, 150_000, c.cwnd, "half, more than the BDP")
}

func TestSpuriousTimeoutUndone(t *testing.T) {
	c := newCongestion(false, 4096, 1000)
	c.cwnd, c.ssthresh = 50_000, 60_000
	c.onTimeout(100)
	require.Equal(t, 1000, c.cwnd, "one packet after a timeout")
	c.onAck(1000, 0, true, time.Now(), time.Millisecond)
	assert.Equal(t, 50_000, c.cwnd, "restored: the timeout was spurious")
	assert.Equal(t, 60_000, c.ssthresh)
}

func TestRealTimeoutKeepsItsCut(t *testing.T) {
	c := newCongestion(false, 4096, 1000)
	c.cwnd, c.ssthresh = 50_000, 60_000
	c.onTimeout(100)
	c.limited = true
	c.onAck(1000, 0, false, time.Now(), time.Millisecond)
	assert.Equal(t, 2000, c.cwnd, "slow start from one packet")
	assert.Equal(t, 25_000, c.ssthresh)
}

// lostFlight sends n one-segment packets from the client, all lost, and
// lets the retransmission timer expire; it returns the probe.
func lostFlight(t *testing.T, h *harness, n int) []*packet {
	t.Helper()
	for i := range n {
		h.client.write(msg(string(rune('a' + i))))
	}
	require.Len(t, h.flushAll(h.client), n)
	h.advance(h.client.snd.timeout())
	probe := h.flush(h.client)
	require.Equal(t, []uint32{clientISN}, segmentsOf(probe), "the timeout sends the oldest segment again, alone")
	return probe
}

// When the probe sent after a timeout is acknowledged, every segment sent
// before it and not acknowledged is lost: they go again at once, not one
// per timeout.
func TestTimeoutProbeAcknowledgedFindsTheRestLost(t *testing.T) {
	h := newHarnessWith(t, Config{PacketSize: MinPacketSize, FixedWindow: true, EpochLength: time.Hour}, smallPackets)
	h.flush(h.client)
	probe := lostFlight(t, h, 5)
	h.deliver(h.server, probe...)
	h.deliver(h.client, h.flush(h.server)...)
	h.advance(time.Millisecond) // the reordering window (srtt is 0 here)
	assert.Equal(t, []uint32{clientISN + 1, clientISN + 2, clientISN + 3, clientISN + 4}, segmentsOf(h.flushAll(h.client)))
	assert.Zero(t, h.client.stats.SpuriousTimeouts, "the flight was lost: the timeout was needed")
}

// A timeout whose flight was not lost, only its acknowledgements late,
// costs the probe and nothing more: when the originals' acknowledgement
// comes, nothing is sent again, and the window is as before.
func TestSpuriousTimeoutSendsOnlyTheProbeAgain(t *testing.T) {
	h := newHarnessWith(t, Config{PacketSize: MinPacketSize, EpochLength: time.Hour}, smallPackets)
	h.flush(h.client)
	cwnd := h.client.snd.cc.cwnd
	for i := range 5 {
		h.client.write(msg(string(rune('a' + i))))
	}
	flight := h.flushAll(h.client)
	h.deliver(h.server, flight[:2]...) // the first two arrive; the answer is late
	late := h.flush(h.server)
	h.advance(h.client.snd.timeout())
	require.Equal(t, []uint32{clientISN}, segmentsOf(h.flush(h.client)), "the probe")

	h.deliver(h.client, late...)
	h.advance(time.Millisecond)
	assert.Empty(t, segmentsOf(h.flushAll(h.client)), "segments 2 to 4 may still arrive: not sent again")
	assert.Equal(t, cwnd, h.client.snd.cc.cwnd, "the window restored")
	assert.Equal(t, int64(1), h.client.stats.Retransmissions)
	assert.Equal(t, int64(1), h.client.stats.SpuriousTimeouts)
}

// The last segment of a flight has no later one whose acknowledgement
// would show it lost. Two round trips after the last news, the tail loss
// probe sends it again, long before the retransmission timeout would.
func TestTailLossProbeResendsTheNewestSegmentBeforeTheTimeout(t *testing.T) {
	h := newHarnessWith(t, Config{PacketSize: MinPacketSize, EpochLength: time.Hour}, smallPackets)
	h.flush(h.client)
	h.client.snd.sampleRTT(10 * time.Millisecond)
	for _, m := range []string{"a", "b", "c"} {
		h.client.write(msg(m))
	}
	flight := h.flushAll(h.client)
	require.Len(t, flight, 3)
	h.deliver(h.server, flight[:2]...) // c is lost
	h.now = h.now.Add(10 * time.Millisecond)
	h.deliver(h.client, h.flush(h.server)...)
	srtt := h.client.snd.srtt
	require.Greater(t, h.client.snd.timeout(), 2*srtt)

	h.advance(2*srtt - time.Nanosecond)
	require.Empty(t, h.flush(h.client), "too early")
	h.advance(time.Nanosecond)
	assert.Equal(t, []uint32{clientISN + 2}, segmentsOf(h.flush(h.client)), "the newest segment, again")
	assert.Equal(t, int64(1), h.client.stats.TailProbes)
	assert.Zero(t, h.client.stats.Timeouts)
}

// With new segments waiting (held back by cwnd), the probe is the next
// new one: its acknowledgement then shows what before it is missing.
func TestTailLossProbeSendsANewSegmentWhenThereIsOne(t *testing.T) {
	h := ccHarness(t, Config{})
	h.flush(h.client)
	queueMessages(h, initialCwnd+5)
	flight := h.flushAll(h.client)
	require.Len(t, flight, initialCwnd, "cwnd holds the rest back")
	h.advance(2 * h.client.snd.srtt)
	assert.Equal(t, []uint32{clientISN + initialCwnd}, segmentsOf(h.flush(h.client)))
}

// The tail loss probe sends the newest segment again; an acknowledgement
// of that segment may be of the original. When the same ACK acknowledges
// originals sent before the probe, the flight was arriving, only late: the
// probe's copy does not convict the segments sent between.
func TestLateFlightAfterATailProbeIsNotSentAgain(t *testing.T) {
	h := newHarnessWith(t, Config{PacketSize: MinPacketSize, FixedWindow: true, EpochLength: time.Hour}, smallPackets)
	h.flush(h.client)
	h.client.snd.sampleRTT(10 * time.Millisecond)
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		h.client.write(msg(m))
	}
	flight := h.flushAll(h.client)
	require.Len(t, flight, 5)
	h.advance(2 * h.client.snd.srtt)
	probe := h.flush(h.client)
	require.Equal(t, []uint32{clientISN + 4}, segmentsOf(probe), "the tail loss probe")

	// a, b and c arrive, late, then the probe; d is later still.
	h.deliver(h.server, flight[0], flight[1], flight[2], probe[0])
	h.deliver(h.client, h.flush(h.server)...)
	h.advance(time.Millisecond) // d was sent two round trips ago: old enough to be judged
	assert.NotContains(t, segmentsOf(h.flush(h.client)), uint32(clientISN+3), "d is not convicted by the probe")
	assert.Equal(t, int64(1), h.client.stats.Retransmissions)
}

// The probe's acknowledgement may come in a later ACK than the one showing
// the flight late: it is still the original's, and convicts nothing.
func TestProbeAcknowledgedAfterTheFlightShowedLateConvictsNothing(t *testing.T) {
	h := newHarnessWith(t, Config{PacketSize: MinPacketSize, FixedWindow: true, EpochLength: time.Hour}, smallPackets)
	h.flush(h.client) // no RTT sample: no tail loss probe before the timeout
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		h.client.write(msg(m))
	}
	flight := h.flushAll(h.client)
	require.Len(t, flight, 5)
	h.advance(h.client.snd.timeout())
	require.Equal(t, []uint32{clientISN}, segmentsOf(h.flush(h.client)), "the timeout's probe")

	h.deliver(h.server, flight[1]) // b arrives, late: the flight was not lost
	h.deliver(h.client, h.flush(h.server)...)
	h.deliver(h.server, flight[0]) // then a, the original: its ACK is not the probe's
	h.deliver(h.client, h.flush(h.server)...)
	h.advance(time.Millisecond) // the reordering window (srtt is 0 here)
	assert.Empty(t, segmentsOf(h.flushAll(h.client)), "c, d and e may still arrive: not sent again")
	assert.Equal(t, int64(1), h.client.stats.Retransmissions)
}

// steadyRTT gives the client a round trip of rtt that barely varies, so
// its timeout comes before a tail loss probe would.
func steadyRTT(h *harness, rtt time.Duration) {
	for range 10 {
		h.client.snd.sampleRTT(rtt)
	}
}

// timeoutProbe sends five one-segment messages from the client and lets
// the retransmission timer expire; it returns the flight and the probe.
func timeoutProbe(t *testing.T, h *harness) (flight, probe []*packet) {
	t.Helper()
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		h.client.write(msg(m))
	}
	flight = h.flushAll(h.client)
	require.Len(t, flight, 5)
	h.advance(h.client.snd.timeout())
	probe = h.flush(h.client)
	require.Equal(t, []uint32{clientISN}, segmentsOf(probe), "the timeout's probe")
	return flight, probe
}

// The receiver, late, may acknowledge the first segment alone, the
// probe's: that ACK may be the original's. Its verdict on the segments
// sent before the probe waits a round trip and a quarter, in which the
// rest of a late flight shows up.
func TestProbeAcknowledgedAloneWaitsForTheRestOfALateFlight(t *testing.T) {
	h := newHarnessWith(t, Config{PacketSize: MinPacketSize, FixedWindow: true, EpochLength: time.Hour}, smallPackets)
	h.flush(h.client)
	steadyRTT(h, 10*time.Millisecond)
	flight, _ := timeoutProbe(t, h)
	h.advance(h.client.snd.srtt / 2) // the flight is old enough to be judged

	h.deliver(h.server, flight[0]) // a, the original, and the receiver answers at once
	h.deliver(h.client, h.flush(h.server)...)
	assert.Empty(t, segmentsOf(h.flush(h.client)), "the verdict waits")
	h.deliver(h.server, flight[1:]...) // then the rest of the flight
	h.deliver(h.client, h.flush(h.server)...)
	h.advance(2 * h.client.snd.srtt)
	assert.Empty(t, segmentsOf(h.flushAll(h.client)), "b to e arrived: nothing is sent again")
	assert.Equal(t, int64(1), h.client.stats.Retransmissions)
}

// If nothing else comes, the verdict stands: the flight was lost.
func TestProbeAcknowledgedAloneFindsALostFlightARoundTripLater(t *testing.T) {
	h := newHarnessWith(t, Config{PacketSize: MinPacketSize, FixedWindow: true, EpochLength: time.Hour}, smallPackets)
	h.flush(h.client)
	steadyRTT(h, 10*time.Millisecond)
	_, probe := timeoutProbe(t, h)
	h.advance(h.client.snd.srtt / 2) // the flight is old enough to be judged

	h.deliver(h.server, probe...) // only the probe arrives
	h.deliver(h.client, h.flush(h.server)...)
	assert.Empty(t, segmentsOf(h.flush(h.client)), "the verdict waits")
	h.advance(h.client.snd.srtt + h.client.snd.srtt/4)
	assert.Equal(t, []uint32{clientISN + 1, clientISN + 2, clientISN + 3, clientISN + 4}, segmentsOf(h.flushAll(h.client)))
}
