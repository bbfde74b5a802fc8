package netsim

import "github.com/distsys-kit/distsys/transport"

// DefaultMaxMessageSize is the largest message a conn sends unless
// WithMaxMessageSize says otherwise: transport.DefaultMaxMessageSize
// (16 MiB), the same as a TCP conn's.
const DefaultMaxMessageSize = transport.DefaultMaxMessageSize

// DefaultWindow is how many bytes of messages may be on their way to a conn
// end, or waiting there unread, before the peer's Send blocks, unless
// WithWindow says otherwise: 1 MiB.
const DefaultWindow = 1 << 20

// DefaultPacketBuffer is how many bytes of datagrams a packet conn holds
// unread before it drops new ones, unless WithPacketBuffer says otherwise:
// 256 KiB, about a Linux UDP socket's default receive buffer.
const DefaultPacketBuffer = 256 << 10

// An Option configures NewNetwork.
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	observers    []func(Event)
	maxMessage   int
	window       int
	packetBuffer int
}

func newOptions(opts []Option) options {
	o := options{maxMessage: DefaultMaxMessageSize, window: DefaultWindow, packetBuffer: DefaultPacketBuffer}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithObserver has f called for every event on the network: each send,
// delivery, drop and duplication of a message, on conns and packet conns
// alike, and each change of the network (a crash, a partition, new
// faults; see EventKind). The calls are made one at a time, in the order
// the events happened, with no lock of the network held, from the
// goroutine of the call that caused the event or from the network's
// delivery goroutine: so guard what f records with a mutex for the code
// that reads it. Every event of a call (a Send, a Recv, a WriteTo, a
// Partition) has been handed to f by the time the call returns; in
// particular a message's delivery event has been, once Recv or ReadFrom
// returns the message.
//
// f must be quick and must not send, receive, close or change anything on
// the network, which would deadlock; it may read counters (LinkStats,
// State). A nil f means no observer. WithObserver may be given more than
// once: every f sees every event, in the order the options were given.
// Observe adds an observer to a running network.
func WithObserver(f func(Event)) Option {
	return optionFunc(func(o *options) {
		if f != nil {
			o.observers = append(o.observers, f)
		}
	})
}

// WithMaxMessageSize sets the largest message, in bytes, that a conn sends;
// Send refuses a larger one with an error matching
// transport.ErrMessageTooLarge. Zero or a negative n means
// DefaultMaxMessageSize. Datagrams are limited to transport.MaxDatagramSize
// whatever this says.
func WithMaxMessageSize(n int) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			n = DefaultMaxMessageSize
		}
		o.maxMessage = n
	})
}

// WithWindow sets the flow-control window of conns: how many bytes of
// messages may be on their way to one conn end, or waiting there unread,
// before Send on the other end blocks. It is what makes a slow reader slow
// its writer down. A single message larger than the window is still sent
// when nothing else is outstanding. Zero or a negative n means
// DefaultWindow.
func WithWindow(n int) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			n = DefaultWindow
		}
		o.window = n
	})
}

// WithPacketBuffer sets how many bytes of datagrams a packet conn holds
// unread; datagrams arriving at a full buffer are dropped, as a UDP socket
// drops them. A datagram larger than the buffer is still kept when the
// buffer is empty. Zero or a negative n means DefaultPacketBuffer.
func WithPacketBuffer(n int) Option {
	return optionFunc(func(o *options) {
		if n <= 0 {
			n = DefaultPacketBuffer
		}
		o.packetBuffer = n
	})
}
