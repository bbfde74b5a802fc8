package rpc

import (
	"context"
	"log/slog"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// Options come in four kinds, so that an option given where it does not
// apply does not compile:
//
//	ServerOption   NewServer                  WithServerInterceptor, WithAuth, WithMaxCalls, ...
//	ClientOption   NewClient and Dial         WithClientInterceptor, WithRetry
//	DialOption     Dial only                  WithDialer, and every ClientOption
//	Option         either side, alike         WithCodec, WithErrors (both sides must agree)
//
// A list handed to Dial is a []DialOption; one handed to NewServer, a
// []ServerOption; an Option fits in both.

// A ServerOption configures a Server (NewServer).
type ServerOption interface {
	applyServer(*serverOptions)
}

// A DialOption configures Dial: every ClientOption is one, and so is
// WithDialer.
type DialOption interface {
	applyDial(*dialOptions)
}

// A ClientOption configures a Client (NewClient, Dial).
type ClientOption interface {
	DialOption
	applyClient(*clientOptions)
}

// An Option configures a Server or a Client alike; both sides must be
// given the same one.
type Option interface {
	ServerOption
	ClientOption
}

// sharedOptions are what both sides must agree on.
type sharedOptions struct {
	codec Codec
	errs  []error
}

type serverOptions struct {
	sharedOptions
	interceptors []ServerInterceptor
	auth         func(context.Context, *ServerCall) error
	cache        cacheLimits
	logger       *slog.Logger
	limits       serverLimits
}

type clientOptions struct {
	sharedOptions
	interceptors []ClientInterceptor
	retry        *RetryPolicy
}

type dialOptions struct {
	clientOptions
	dialer transport.Dialer
}

// The adapters from functions to the option interfaces.
type (
	sharedOption func(*sharedOptions)
	serverOption func(*serverOptions)
	clientOption func(*clientOptions)
	dialOption   func(*dialOptions)
)

func (f sharedOption) applyServer(o *serverOptions) { f(&o.sharedOptions) }
func (f sharedOption) applyClient(o *clientOptions) { f(&o.sharedOptions) }
func (f sharedOption) applyDial(o *dialOptions)     { f(&o.sharedOptions) }
func (f serverOption) applyServer(o *serverOptions) { f(o) }
func (f clientOption) applyClient(o *clientOptions) { f(o) }
func (f clientOption) applyDial(o *dialOptions)     { f(&o.clientOptions) }
func (f dialOption) applyDial(o *dialOptions)       { f(o) }

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

func newServerOptions(opts []ServerOption) serverOptions {
	o := serverOptions{
		cache:  cacheLimits{clients: DefaultReplyCacheClients, perClient: DefaultReplyCachePerClient},
		logger: slog.New(slog.DiscardHandler),
		limits: serverLimits{
			maxConns: DefaultMaxConns, maxCalls: DefaultMaxCalls,
			idle: DefaultIdleTimeout, stall: DefaultStallTimeout,
		},
	}
	for _, opt := range opts {
		opt.applyServer(&o)
	}
	o.sharedOptions.setDefaults()
	return o
}

func newClientOptions(opts []ClientOption) clientOptions {
	var o clientOptions
	for _, opt := range opts {
		opt.applyClient(&o)
	}
	o.sharedOptions.setDefaults()
	return o
}

func newDialOptions(opts []DialOption) dialOptions {
	var o dialOptions
	for _, opt := range opts {
		opt.applyDial(&o)
	}
	o.sharedOptions.setDefaults()
	if o.dialer == nil {
		o.dialer = transport.NewTCPDialer()
	}
	return o
}

func (o *sharedOptions) setDefaults() {
	if o.codec == nil {
		o.codec = NewGobCodec()
	}
}

// WithCodec sets the codec for arguments and replies (both sides; they must
// agree). The default is a NewGobCodec of the server's or client's own.
func WithCodec(c Codec) Option {
	return sharedOption(func(o *sharedOptions) { o.codec = c })
}

// WithErrors declares sentinel errors that survive the wire (both sides).
// When a handler's error matches one of errs (errors.Is), the server sends
// its message as a code, and a client that declared the same error restores
// it, so errors.Is(err, kv.ErrNoKey) holds for the caller. Errors are
// matched by message, so both sides must declare errors with the same
// text; the package's own sentinels, context.Canceled and
// context.DeadlineExceeded are always known. Repeated WithErrors add up.
func WithErrors(errs ...error) Option {
	return sharedOption(func(o *sharedOptions) { o.errs = append(o.errs, errs...) })
}

// WithClientInterceptor adds interceptors around every call the client
// makes. The first added is the outermost. Repeated uses add up.
func WithClientInterceptor(ics ...ClientInterceptor) ClientOption {
	return clientOption(func(o *clientOptions) { o.interceptors = append(o.interceptors, ics...) })
}

// WithServerInterceptor adds interceptors around every handler the server
// runs. The first added is the outermost. Repeated uses add up.
func WithServerInterceptor(ics ...ServerInterceptor) ServerOption {
	return serverOption(func(o *serverOptions) { o.interceptors = append(o.interceptors, ics...) })
}

// WithAuth sets a function that the server runs on every call before
// decoding its arguments or running any interceptor or handler. call
// carries the method, the client's metadata and address; its
// Args and Reply are nil. If auth returns an error, the call is refused: the
// client gets a *RemoteError matching ErrUnauthenticated with auth's message.
// auth must be safe for concurrent use.
func WithAuth(auth func(ctx context.Context, call *ServerCall) error) ServerOption {
	return serverOption(func(o *serverOptions) { o.auth = auth })
}

// WithDialer makes Dial connect, and reconnect, through d instead of TCP:
// d may dial a simulated network, reliable UDP or anything else,
// TLS included: transport.NewTCPDialer(transport.WithTLS(cfg)).
func WithDialer(d transport.Dialer) DialOption {
	return dialOption(func(o *dialOptions) { o.dialer = d })
}

// WithLogger makes the server log what it cannot return to anyone as an
// error: a handler that panicked, with its stack. The default discards.
func WithLogger(l *slog.Logger) ServerOption {
	return serverOption(func(o *serverOptions) {
		if l != nil {
			o.logger = l
		}
	})
}
