package reliable

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// harness plays the network between two sessions by hand: the test takes
// the packets one session sends and decides what the other receives, and
// when, so that every loss, copy and reordering is written out in the test.
type harness struct {
	t              *testing.T
	now            time.Time
	client, server *session
}

// Initial sequence numbers of the two ends, well apart, so that a test
// mixing them up fails.
const (
	clientISN = 1000
	serverISN = 900_000
	testID    = 0xC0FFEE
	testNonce = 0xABCDEF
)

// newHarness runs the handshake between a dialer and a listener session,
// both configured by cfg, losing nothing.
func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	return newHarnessWith(t, cfg, cfg)
}

// newHarnessWith is newHarness with a configuration for each end, for the
// properties that only show when the ends differ (a sender must keep its
// own window, not only its peer's).
func newHarnessWith(t *testing.T, client, server Config) *harness {
	t.Helper()
	h := &harness{t: t, now: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
	h.client = newDialSession(settingsOf(t, client), testNonce, clientISN, h.now)
	connect := h.one(h.client, typeConnect)
	h.server = newAcceptSession(settingsOf(t, server), testID, serverISN, connect, h.now)
	h.client.step(h.one(h.server, typeAccept), h.now)
	require.Equal(t, stateOpen, h.client.state)
	return h
}

// settings returns cfg's settings, or fails the test.
func settingsOf(t *testing.T, cfg Config) settings {
	t.Helper()
	s, err := cfg.settings()
	require.NoError(t, err)
	return s
}

// flush returns the packets s sends now, decoded (each from its own copy of
// the bytes, so they outlive the next flush).
func (h *harness) flush(s *session) []*packet {
	h.t.Helper()
	var ps []*packet
	for _, b := range s.flush(h.now) {
		p := new(packet)
		require.NoError(h.t, decodePacket(append([]byte(nil), b...), p))
		ps = append(ps, p)
	}
	return ps
}

// one flushes s and requires exactly one packet, of type typ.
func (h *harness) one(s *session, typ packetType) *packet {
	h.t.Helper()
	ps := h.flush(s)
	require.Len(h.t, ps, 1, "packets sent")
	require.Equal(h.t, typ, ps[0].typ)
	return ps[0]
}

// deliver steps to with each packet, in the order given.
func (h *harness) deliver(to *session, ps ...*packet) {
	for _, p := range ps {
		to.step(p, h.now)
	}
}

// exchange delivers everything both ends send, back and forth, until both
// fall silent.
func (h *harness) exchange() {
	h.t.Helper()
	for range 1000 {
		c, s := h.flush(h.client), h.flush(h.server)
		if len(c) == 0 && len(s) == 0 {
			return
		}
		h.deliver(h.server, c...)
		h.deliver(h.client, s...)
	}
	h.t.Fatal("the sessions never fell silent")
}

// advance moves the clock on by d and ticks both sessions.
func (h *harness) advance(d time.Duration) {
	h.now = h.now.Add(d)
	h.client.tick(h.now)
	h.server.tick(h.now)
}

// readAll returns every message s has ready.
func readAll(s *session) []string {
	var got []string
	for {
		msg, err := s.read()
		if msg == nil || err != nil {
			return got
		}
		got = append(got, string(msg))
	}
}

// segmentsOf lists the sequence numbers of the segments in ps.
func segmentsOf(ps []*packet) []uint32 {
	var seqs []uint32
	for _, p := range ps {
		for _, s := range p.segs {
			seqs = append(seqs, s.seq)
		}
	}
	return seqs
}

// smallPackets makes every short test message travel alone in its packet.
var smallPackets = Config{PacketSize: MinPacketSize}

// msg is a test message of 90 bytes starting with s: it fits one segment
// of a MinPacketSize packet, and shares the packet with nothing, not even a
// FIN.
func msg(s string) []byte {
	b := make([]byte, 90)
	copy(b, s)
	return b
}

func str(s string) string { return string(msg(s)) }
