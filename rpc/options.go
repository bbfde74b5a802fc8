package rpc

import (
	"context"
	"log/slog"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// An Option configures a Server (NewServer) or a Client (NewClient, Dial).
// Each option says which side it applies to; the other side ignores it, so
// a program may build one option list and hand it to both.
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	codec     Codec
	errs      []error
	clientICs []ClientInterceptor
	serverICs []ServerInterceptor
	auth      func(context.Context, *ServerCall) error
	retry     *RetryPolicy
	cache     cacheLimits
	dialer    transport.Dialer
	logger    *slog.Logger
	limits    serverLimits
}

// Defaults for the options.
const (
	// DefaultRetryInterval is RetryPolicy.Interval when it is zero.
	DefaultRetryInterval = 100 * time.Millisecond
	// DefaultReplyCacheClients is how many clients' replies a server keeps
	// for at-most-once execution, unless WithReplyCache says otherwise.
	DefaultReplyCacheClients = 4096
	// DefaultReplyCachePerClient is how many unacknowledged replies a
	// server keeps per client, unless WithReplyCache says otherwise.
	DefaultReplyCachePerClient = 1024
	// DefaultMaxConns is how many connections a server serves at once,
	// unless WithMaxConns says otherwise.
	DefaultMaxConns = 1024
	// DefaultMaxCalls is how many calls a server runs at once, over all its
	// connections, unless WithMaxCalls says otherwise.
	DefaultMaxCalls = 1024
	// DefaultIdleTimeout is how long a server keeps a connection that
	// carries no call, unless WithIdleTimeout says otherwise.
	DefaultIdleTimeout = 5 * time.Minute
	// DefaultStallTimeout is how long a server waits for a client that
	// reads none of its replies, unless WithStallTimeout says otherwise.
	DefaultStallTimeout = 30 * time.Second
)

func newOptions(opts []Option) options {
	o := options{
		cache:  cacheLimits{clients: DefaultReplyCacheClients, perClient: DefaultReplyCachePerClient},
		logger: slog.New(slog.DiscardHandler),
		limits: serverLimits{
			maxConns: DefaultMaxConns, maxCalls: DefaultMaxCalls,
			idle: DefaultIdleTimeout, stall: DefaultStallTimeout,
		},
	}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if o.codec == nil {
		o.codec = NewGobCodec()
	}
	return o
}

// WithCodec sets the codec for arguments and replies (both sides; they must
// agree). The default is a NewGobCodec of the server's or client's own.
func WithCodec(c Codec) Option {
	return optionFunc(func(o *options) { o.codec = c })
}

// WithErrors declares sentinel errors that survive the wire (both sides).
// When a handler's error matches one of errs (errors.Is), the server sends
// its message as a code, and a client that declared the same error restores
// it, so errors.Is(err, kv.ErrNoKey) holds for the caller. Errors are
// matched by message, so both sides must declare errors with the same
// text; the package's own sentinels, context.Canceled and
// context.DeadlineExceeded are always known. Repeated WithErrors add up.
func WithErrors(errs ...error) Option {
	return optionFunc(func(o *options) { o.errs = append(o.errs, errs...) })
}

// WithClientInterceptor adds interceptors around every call the client
// makes (client side). The first added is the outermost. Repeated uses add
// up.
func WithClientInterceptor(ics ...ClientInterceptor) Option {
	return optionFunc(func(o *options) { o.clientICs = append(o.clientICs, ics...) })
}

// WithServerInterceptor adds interceptors around every handler the server
// runs (server side). The first added is the outermost. Repeated uses add
// up.
func WithServerInterceptor(ics ...ServerInterceptor) Option {
	return optionFunc(func(o *options) { o.serverICs = append(o.serverICs, ics...) })
}

// WithAuth sets a function that the server runs on every call before
// decoding its arguments or running any interceptor or handler (server
// side). call carries the method, the client's metadata and address; its
// Args and Reply are nil. If auth returns an error, the call is refused: the
// client gets a *RemoteError matching ErrUnauthenticated with auth's message.
// auth must be safe for concurrent use.
func WithAuth(auth func(ctx context.Context, call *ServerCall) error) Option {
	return optionFunc(func(o *options) { o.auth = auth })
}

// RetryPolicy says how a client retries calls that get no reply. See
// WithRetry.
type RetryPolicy struct {
	// Interval is how long the first attempt waits for its reply before the
	// request is sent again; zero means DefaultRetryInterval. Each further
	// wait doubles, up to MaxInterval.
	Interval time.Duration
	// MaxInterval caps the wait between attempts; zero means 8 * Interval.
	MaxInterval time.Duration
	// MaxAttempts bounds how many times a request is sent; zero means
	// until the call's context ends.
	MaxAttempts int
	// Window bounds how far ahead of its oldest unfinished call a client
	// may start new ones, as TCP's window bounds the bytes in flight: a
	// call that would start Window or more calls after the oldest one
	// still waiting for its reply waits (for that call, or its ctx). The
	// server keeps a reply for each call in the window, so Window must
	// not exceed the server's per-client limit (WithReplyCache). Zero
	// means DefaultReplyCachePerClient.
	Window int
}

// WithRetry makes the client resend calls that get no reply in time, and
// makes the server run each call at most once however many copies of it
// arrive (client side; the server needs no option). See "At most once" in
// the package documentation. A client made by Dial also redials when its
// connection is lost.
func WithRetry(p RetryPolicy) Option {
	if p.Interval <= 0 {
		p.Interval = DefaultRetryInterval
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = 8 * p.Interval
	}
	if p.Window <= 0 {
		p.Window = DefaultReplyCachePerClient
	}
	return optionFunc(func(o *options) { o.retry = &p })
}

type cacheLimits struct {
	clients, perClient int
}

// WithReplyCache bounds the reply cache the server keeps for at-most-once
// execution (server side): replies of at most clients clients, and at most
// perClient unacknowledged replies per client. A client pushed out of the
// cache gets ErrMaybeExecuted if it retries a call the server may have run;
// a client with perClient replies outstanding gets ErrTooManyCalls until it
// acknowledges some. Zero or negative values mean the defaults.
func WithReplyCache(clients, perClient int) Option {
	return optionFunc(func(o *options) {
		if clients > 0 {
			o.cache.clients = clients
		}
		if perClient > 0 {
			o.cache.perClient = perClient
		}
	})
}

// WithDialer makes Dial connect through d instead of TCP (client side; Dial
// only): d may dial a simulated network, reliable UDP or anything else,
// TLS included: transport.NewTCPDialer(transport.WithTLS(cfg)).
func WithDialer(d transport.Dialer) Option {
	return optionFunc(func(o *options) { o.dialer = d })
}

// WithLogger makes the server log what it cannot return to anyone as an
// error (server side): a handler that panicked, with its stack. The default
// discards.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}
