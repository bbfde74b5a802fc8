package reliable

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The harness's handshake takes no time, so its round trip sample is 0:
// srtt 0 means no sample yet, and the next sample sets srtt.

func TestOneRoundTripSamplePerAckFromNewestSegment(t *testing.T) {
	h := newHarness(t, smallPackets)
	h.client.write(msg("a"))
	a := h.one(h.client, typeData)
	h.now = h.now.Add(50 * time.Millisecond)
	h.client.write(msg("b"))
	b := h.one(h.client, typeData)
	h.deliver(h.server, a, b)
	h.now = h.now.Add(10 * time.Millisecond)
	ack := h.one(h.server, typeAck) // one ACK for both: a's waited for b
	h.deliver(h.client, ack)
	require.True(t, h.client.snd.allAcked())
	assert.Equal(t, 10*time.Millisecond, h.client.snd.srtt, "b's round trip, not a's 60 ms")
}

func TestNoRoundTripSampleFromFlightSentBeforeTimeout(t *testing.T) {
	h := newHarness(t, Config{PacketSize: MinPacketSize, EpochLength: time.Hour})
	for _, m := range []string{"a", "b", "c"} {
		h.client.write(msg(m))
	}
	h.deliver(h.server, h.flush(h.client)...)
	h.flush(h.server) // every acknowledgement is lost

	h.advance(h.client.snd.timeout())
	probe := h.flush(h.client)
	require.NotEmpty(t, probe)
	require.NotContains(t, segmentsOf(probe), uint32(clientISN+2), "a timeout probes with the oldest segments only")
	h.now = h.now.Add(time.Millisecond)
	h.deliver(h.server, probe...)
	h.deliver(h.client, h.one(h.server, typeAck))
	require.True(t, h.client.snd.allAcked())
	assert.Zero(t, h.client.snd.srtt,
		"c was acknowledged in answer to the probe: the timeout is not a round trip")

	// What is sent after the timeout is timed again.
	h.client.write(msg("d"))
	h.deliver(h.server, h.one(h.client, typeData))
	h.now = h.now.Add(3 * time.Millisecond)
	h.deliver(h.client, h.one(h.server, typeAck))
	assert.Equal(t, 3*time.Millisecond, h.client.snd.srtt)
}
