package reliable

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A message's segments count against the window when it is complete, all
// at once; its earlier fragments had already moved next, and with it the
// window's edge, which an acknowledgement may have advertised and the
// sender filled. The edge must not move back (TCP forbids shrinking the
// window for the same reason): what was sent within it is kept, not
// dropped to be sent again.
func TestCompletedMessageDoesNotShrinkTheAdvertisedWindow(t *testing.T) {
	cfg, err := Config{WindowSize: 4}.settings()
	require.NoError(t, err)
	r := newReceiver(100, cfg, &Stats{})
	r.onSegment(segment{seq: 100, left: 2, data: []byte("a")}) // a message of three segments
	r.onSegment(segment{seq: 101, left: 1, data: []byte("b")})
	var ack packet
	r.ackBlock(&ack, 0)
	require.Equal(t, uint32(102), ack.ack)
	require.Equal(t, uint32(4), ack.window, "the two fragments are not messages yet")

	// The sender fills the window it was given, 102 to 105; 102 ends the
	// message, which now holds three of the four segments of room.
	for seq := uint32(102); seq < 106; seq++ {
		r.onSegment(segment{seq: seq, data: []byte{byte(seq)}})
	}
	assert.Equal(t, uint32(106), r.next, "every segment within the advertised window is kept")
	assert.Zero(t, r.stats.Duplicates)
	r.ackBlock(&ack, 0)
	assert.Zero(t, ack.window, "no room beyond what was promised")
}
