package dashboard

import (
	"time"

	"github.com/distsys-kit/distsys/trace"
)

// DefaultBuffer is how many events a dashboard holds for each browser that
// has not read them yet, unless WithBuffer says otherwise. A browser that
// falls further behind loses events, and is told how many.
const DefaultBuffer = 2048

// An Option configures New.
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	title  string
	nodes  []string
	label  func(msg []byte) string
	buffer int
	setup  string
	now    func() time.Time
}

func newOptions(opts []Option) options {
	o := options{title: "distsys dashboard", label: stampLabel, buffer: DefaultBuffer, now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithTitle sets the title of the page. The default is "distsys dashboard".
func WithTitle(title string) Option {
	return optionFunc(func(o *options) {
		if title != "" {
			o.title = title
		}
	})
}

// WithNodes names the nodes to draw from the start, in this order around
// the picture, before they have sent anything. Nodes not named are drawn
// too, after these, as they appear.
func WithNodes(names ...string) Option {
	return optionFunc(func(o *options) { o.nodes = append(o.nodes, names...) })
}

// WithLabel sets how the dashboard names a message on the page, from its
// bytes: an rpc method, a message type. The default reads the label of
// the trace stamp a traced message carries (trace.FindStamp: the rpc
// method with package tracerpc), and names other messages by nothing. f
// runs on the network's goroutines for every message, so it must be quick
// and safe for concurrent use.
func WithLabel(f func(msg []byte) string) Option {
	return optionFunc(func(o *options) {
		if f != nil {
			o.label = f
		}
	})
}

// WithBuffer sets how many events the dashboard holds for a browser that
// has not read them yet; zero or a negative n means DefaultBuffer. The
// bound is what keeps a slow or stuck browser from slowing the network:
// the events it cannot take are counted and dropped.
func WithBuffer(n int) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.buffer = n
		}
	})
}

// WithSetup gives the Go statements that start the system under test on a
// network n, for the test that "export" writes: they go where the test
// says "start the system here". Without it the exported test has a
// comment there to replace.
func WithSetup(code string) Option {
	return optionFunc(func(o *options) { o.setup = code })
}

// WithClock sets where the dashboard reads the time (of events, and of the
// exported test's schedule); nil means time.Now. Inside a testing/synctest
// bubble the default is virtual time already.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}

// stampLabel is the default label of a message: the label of its trace
// stamp, if it carries one.
func stampLabel(msg []byte) string {
	s, err := trace.FindStamp(msg)
	if err != nil {
		return ""
	}
	return s.Label
}
