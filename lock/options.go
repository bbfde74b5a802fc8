package lock

import "time"

// DefaultCallTimeout is how long a client waits for the reply to one
// request before sending it again, unless WithCallTimeout says otherwise.
const DefaultCallTimeout = time.Second

// A ClientOption configures a Client (NewClient).
type ClientOption interface {
	apply(*clientOptions)
}

type optionFunc func(*clientOptions)

func (f optionFunc) apply(o *clientOptions) { f(o) }

type clientOptions struct {
	name        string
	clock       Clock
	callTimeout time.Duration
}

func newClientOptions(opts []ClientOption) clientOptions {
	o := clientOptions{clock: systemClock{}, callTimeout: DefaultCallTimeout}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithName names the client in the server's view of its locks
// (Server.Locks). The default is "".
func WithName(name string) ClientOption {
	return optionFunc(func(o *clientOptions) { o.name = name })
}

// WithClock sets the clock the client reads lease expiries and renewal
// times from. The default is the system clock.
func WithClock(c Clock) ClientOption {
	return optionFunc(func(o *clientOptions) {
		if c != nil {
			o.clock = c
		}
	})
}

// WithCallTimeout sets how long the client waits for the reply to one
// request before sending it again (lost requests and replies are retried;
// every request is idempotent). A waiting Lock asks the server to hold its
// request for half of it. Zero or negative means DefaultCallTimeout.
func WithCallTimeout(d time.Duration) ClientOption {
	return optionFunc(func(o *clientOptions) {
		if d > 0 {
			o.callTimeout = d
		}
	})
}
