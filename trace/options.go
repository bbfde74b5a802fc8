package trace

import "time"

// An Option configures NewRecorder.
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	title     string
	now       func() time.Time
	maxEvents int
	routine   []string
}

func newOptions(opts []Option) options {
	o := options{title: "distsys trace", now: time.Now}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithTitle sets the title of the HTML page WriteFiles writes. The default
// is "distsys trace".
func WithTitle(title string) Option {
	return optionFunc(func(o *options) {
		if title != "" {
			o.title = title
		}
	})
}

// WithClock sets where the Recorder reads the time it stamps on events
// (Event.Time); nil means time.Now, the default. The time is only shown to
// people; the order of events comes from their vector clocks.
func WithClock(now func() time.Time) Option {
	return optionFunc(func(o *options) {
		if now != nil {
			o.now = now
		}
	})
}

// WithMaxEvents bounds the memory a Recorder uses: it keeps the first n
// events and counts the ones after (Recorder.Omitted). Keeping the start,
// not the end, keeps every kept receive's send, and keeps each node's clock
// counting up from 1, as ShiViz wants. Zero or a negative n means no limit,
// the default.
func WithMaxEvents(n int) Option {
	return optionFunc(func(o *options) { o.maxEvents = max(n, 0) })
}

// WithRoutine names the labels of routine messages (and of their replies):
// the ones a system exchanges all the time, whatever happens, such as
// "Raft.AppendEntries" heartbeats or "Coordinator.GetTask" polls. The
// diagram hides them until asked (the page says how many), so that what
// changes stands out. Labels that contain "heartbeat", "ping", "pong",
// "poll" or "keepalive", in any case, are routine without being named.
func WithRoutine(labels ...string) Option {
	return optionFunc(func(o *options) { o.routine = append(o.routine, labels...) })
}
