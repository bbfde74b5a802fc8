package reliable

import (
	"fmt"
	"math"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// Defaults used for the zero fields of a Config.
const (
	// DefaultEpochLength is the length of an epoch: 500 ms.
	DefaultEpochLength = 500 * time.Millisecond

	// DefaultEpochLimit is how many silent epochs in a row declare the
	// peer lost: 10, so a silent peer is lost after 5 to 5.5 s by default.
	DefaultEpochLimit = 10

	// DefaultWindowSize is the sliding window, in segments: 4096, so up to
	// 5.6 MB in flight. A window must cover the data sent during a round
	// trip and the repair of a loss; on a fast link a small one, not the
	// link, limits throughput.
	DefaultWindowSize = 4096

	// DefaultMaxBackOffInterval caps the retransmission timeout, however
	// many times in a row it has expired: 1 s.
	DefaultMaxBackOffInterval = time.Second

	// DefaultMaxMessageSize is the largest message sent or accepted: 16 MiB,
	// the same as transport's TCP connections.
	DefaultMaxMessageSize = 16 << 20

	// DefaultPacketSize is the largest datagram sent to a peer that is not
	// on a loopback address: 1400 bytes, which fits an Ethernet frame
	// (1500) with room for IP, UDP and a tunnel's headers.
	DefaultPacketSize = 1400

	// DefaultLoopbackPacketSize is the largest datagram sent to a peer on
	// a loopback address (and accepted by a listener): 65,507 bytes, the
	// most a UDP datagram holds. The loopback interface does not fragment
	// it, and fewer, larger datagrams mean fewer system calls.
	DefaultLoopbackPacketSize = transport.MaxDatagramSize

	// DefaultLinger is how long Close waits, at most, for the peer to
	// acknowledge what was sent: 2 s.
	DefaultLinger = 2 * time.Second

	// DefaultMaxConnections is how many connections a Listener keeps open
	// at once, by default: 1024.
	DefaultMaxConnections = 1024
)

// MinPacketSize is the smallest PacketSize: a segment header, a full
// acknowledgement block and a few bytes of data must fit.
const MinPacketSize = 128

// SegmentSize is the most message bytes one segment carries. A message
// longer than that is sent as several segments (fragments) and reassembled
// by the receiver; a packet carries as many segments as fit in its
// PacketSize, so small messages share packets. It is fixed, not configured,
// so that WindowSize means the same amount of memory on every link: 1366
// bytes, 1400 less the DATA header and one segment header. (On a link with
// a PacketSize below 1400, segments are smaller still.)
const SegmentSize = DefaultPacketSize - ackBlockLen - segmentHeaderLen

// Config holds the protocol's knobs. They carry the names of CMU's Live
// Sequence Protocol (LSP) parameters. The zero value of every field means
// its default, so Config{} is a good configuration; negative values are
// refused with an error matching ErrInvalidConfig.
//
// The two ends of a connection need not agree: each announces its window,
// packet size and message size limit in the handshake, and each side sends
// within the other's limits.
type Config struct {
	// EpochLength is the period of the epoch timer. At the end of each
	// epoch a connection sends a heartbeat if it sent nothing else during
	// the epoch, and counts the epoch as silent if it heard nothing from
	// the peer. Zero means DefaultEpochLength.
	EpochLength time.Duration

	// EpochLimit is how many silent epochs in a row make the peer lost.
	// A peer that falls silent is declared lost between
	// EpochLimit×EpochLength and (EpochLimit+1)×EpochLength after the last
	// packet heard from it. A Dial that gets no answer gives up after the
	// same time. Zero means DefaultEpochLimit.
	EpochLimit int

	// WindowSize bounds the sliding window, in segments: a segment is sent
	// only if its sequence number is less than the oldest unacknowledged
	// one plus WindowSize. It is also the receive buffer: a receiver
	// keeps at most WindowSize segments, counting those that arrived out
	// of order and messages not yet read by Recv, and advertises the room
	// left so that a sender never overruns it. Zero means
	// DefaultWindowSize.
	WindowSize int

	// MaxUnackedMessages bounds how many segments may be in flight
	// (sent and not acknowledged) at once. Zero means WindowSize.
	MaxUnackedMessages int

	// MaxBackOffInterval caps the retransmission timeout. When nothing is
	// acknowledged for a timeout, the oldest segments are sent again and
	// the timeout doubles, up to this cap, until an acknowledgement
	// arrives. Zero means DefaultMaxBackOffInterval.
	MaxBackOffInterval time.Duration

	// MaxMessageSize is the largest message this end sends or accepts.
	// Send refuses a larger one (or one larger than the peer's limit)
	// with an error matching transport.ErrMessageTooLarge. Zero means
	// DefaultMaxMessageSize.
	MaxMessageSize int

	// PacketSize is the largest datagram this end sends or accepts, at
	// least MinPacketSize and at most transport.MaxDatagramSize. Zero
	// means DefaultLoopbackPacketSize when dialing a loopback address and
	// on a listener (which takes the smaller of its own and each dialer's
	// size), and DefaultPacketSize otherwise.
	PacketSize int

	// Linger is how long Close waits, at most, for the peer to
	// acknowledge the messages sent before it. Zero means DefaultLinger;
	// a negative Linger makes Close discard unacknowledged messages and
	// return at once.
	Linger time.Duration

	// MaxConnections bounds the connections a Listener keeps open at once,
	// accepted or waiting for Accept; closing ones count until they are
	// done. A CONNECT beyond it is refused, and the dialer's Dial fails at
	// once with an error matching ErrRefused. With a memory bound per
	// connection (see WindowSize and MaxMessageSize), it bounds what a
	// listener holds whatever its dialers do. Dialers ignore it. Zero means
	// DefaultMaxConnections.
	MaxConnections int

	// FixedWindow turns congestion control off: the sender keeps up to
	// WindowSize segments in flight whatever the network does, as LSP and
	// KCP's fast mode do. That is fastest on a loopback interface or a
	// LAN of one's own; on a shared link, it floods queues and makes the
	// losses it then repairs (see the package documentation). By default
	// (false) a congestion window, grown and cut as TCP's is, bounds the
	// segments in flight too.
	FixedWindow bool

	// Seed seeds the random numbers of the protocol: connection IDs,
	// handshake nonces and initial sequence numbers. Zero means an
	// unpredictable seed. Two programs with the same non-zero Seed choose
	// the same numbers, so set it in tests only.
	Seed uint64
}

// settings is a Config with every default filled in and checked.
type settings struct {
	epochLength   time.Duration
	epochLimit    int
	window        int
	maxUnacked    int
	maxBackOff    time.Duration
	maxMessage    int
	packetSize    int
	linger        time.Duration // < 0: do not wait
	maxConns      int
	fixedWindow   bool
	seed          uint64
	loopbackPeers bool // PacketSize was zero: pick by the peer's address
}

// settings checks c and fills in its defaults.
func (c Config) settings() (settings, error) {
	bad := func(field string, v any) (settings, error) {
		return settings{}, fmt.Errorf("%w: %s = %v", ErrInvalidConfig, field, v)
	}
	switch {
	case c.EpochLength < 0:
		return bad("EpochLength", c.EpochLength)
	case c.EpochLimit < 0:
		return bad("EpochLimit", c.EpochLimit)
	case c.WindowSize < 0 || c.WindowSize > math.MaxInt32/2:
		return bad("WindowSize", c.WindowSize)
	case c.MaxUnackedMessages < 0:
		return bad("MaxUnackedMessages", c.MaxUnackedMessages)
	case c.MaxBackOffInterval < 0:
		return bad("MaxBackOffInterval", c.MaxBackOffInterval)
	case c.MaxMessageSize < 0 || c.MaxMessageSize > math.MaxInt32:
		return bad("MaxMessageSize", c.MaxMessageSize)
	case c.MaxConnections < 0:
		return bad("MaxConnections", c.MaxConnections)
	case c.PacketSize != 0 && (c.PacketSize < MinPacketSize || c.PacketSize > transport.MaxDatagramSize):
		return bad("PacketSize", c.PacketSize)
	}
	s := settings{
		epochLength: orDefault(c.EpochLength, DefaultEpochLength),
		epochLimit:  orDefault(c.EpochLimit, DefaultEpochLimit),
		window:      orDefault(c.WindowSize, DefaultWindowSize),
		maxBackOff:  orDefault(c.MaxBackOffInterval, DefaultMaxBackOffInterval),
		maxMessage:  orDefault(c.MaxMessageSize, DefaultMaxMessageSize),
		packetSize:  orDefault(c.PacketSize, DefaultPacketSize),
		linger:      orDefault(c.Linger, DefaultLinger),
		maxConns:    orDefault(c.MaxConnections, DefaultMaxConnections),
		fixedWindow: c.FixedWindow,
		seed:        c.Seed,
	}
	s.maxUnacked = orDefault(c.MaxUnackedMessages, s.window)
	s.loopbackPeers = c.PacketSize == 0
	return s, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// lostAfter is the longest a peer may stay silent before it is declared
// lost: (EpochLimit+1) epochs.
func (s settings) lostAfter() time.Duration {
	return time.Duration(s.epochLimit+1) * s.epochLength
}
