package transport

import (
	"crypto/tls"
	"time"
)

// DefaultMaxMessageSize is the largest message a stream connection sends or
// accepts unless WithMaxMessageSize says otherwise: 16 MiB.
const DefaultMaxMessageSize = 16 << 20

// DefaultSendBuffer is how many bytes of messages Send queues, by default,
// before it blocks waiting for the network: 1 MiB.
const DefaultSendBuffer = 1 << 20

// DefaultLinger is how long Close waits, by default, for queued messages to
// be written before it closes the underlying connection: 1 s.
const DefaultLinger = time.Second

// DefaultReadProgressTimeout is how long, by default, a peer that has begun
// a message may go without sending any more of it (see
// WithReadProgressTimeout): 30 s.
const DefaultReadProgressTimeout = 30 * time.Second

// An Option configures NewConn, DialTCP or ListenTCP.
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	maxMessage int
	sendBuffer int
	linger     time.Duration
	progress   time.Duration // < 0: no read-progress timeout
	tls        *tls.Config
}

func newOptions(opts []Option) options {
	o := options{maxMessage: DefaultMaxMessageSize, sendBuffer: DefaultSendBuffer, linger: DefaultLinger, progress: DefaultReadProgressTimeout}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithMaxMessageSize sets the largest message, in bytes, that the connection
// sends or accepts. Zero or a negative n means DefaultMaxMessageSize. The
// limit also bounds what a hostile peer can make us allocate: a frame
// announcing more is refused before any memory is reserved for it. Values
// above 4 GiB - 1 are capped there, the largest length a frame header holds.
func WithMaxMessageSize(n int) Option {
	return optionFunc(func(o *options) {
		switch {
		case n <= 0:
			o.maxMessage = DefaultMaxMessageSize
		case uint64(n) > maxFrameLen:
			o.maxMessage = maxFrameLen
		default:
			o.maxMessage = n
		}
	})
}

// WithSendBuffer sets how many bytes of messages Send may queue before it
// blocks until the network takes them. A large buffer lets many small sends
// go out in one write; a small one makes a slow peer felt sooner (the
// operating system buffers more below it). A single message larger than n
// is still queued, alone. Zero or a negative n means DefaultSendBuffer.
func WithSendBuffer(n int) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			n = DefaultSendBuffer
		}
		o.sendBuffer = n
	})
}

// WithLinger sets how long Close waits for queued messages to be written
// before closing the underlying connection. A peer that has stopped reading
// can make Close wait this long. Zero means DefaultLinger; a negative d means
// Close discards queued messages at once.
func WithLinger(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d == 0 {
			d = DefaultLinger
		}
		o.linger = d
	})
}

// WithReadProgressTimeout sets how long a peer that has begun to send a
// message (or a TLS handshake) may go without sending another byte of it.
// When that time passes with a Recv waiting for the rest, the connection is
// closed and Recv returns an error matching ErrPeerStalled. So a peer that
// announces a frame and stops (a slowloris attack, or a hung program) holds
// our memory and goroutines for d at most, not for ever. It bounds only
// silence in the middle of a message: between messages a conn may stay idle
// as long as its user likes (an idle timeout is the user's ctx on Recv). Zero
// means DefaultReadProgressTimeout; a negative d means no limit.
func WithReadProgressTimeout(d time.Duration) Option {
	return optionFunc(func(o *options) {
		if d == 0 {
			d = DefaultReadProgressTimeout
		}
		o.progress = d
	})
}

// WithTLS makes DialTCP and ListenTCP speak TLS with the given configuration.
// NewConn ignores it: to frame a TLS stream you already have, pass the
// *tls.Conn itself to NewConn. For mutual TLS, set ClientAuth and ClientCAs on
// the listener's config and Certificates on the dialer's.
func WithTLS(cfg *tls.Config) Option {
	return optionFunc(func(o *options) { o.tls = cfg })
}
