package lock

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/internal/retry"
	"github.com/distsys-kit/distsys/rpc"
)

// Caller is the part of an rpc client that a lock Client uses; *rpc.Client
// implements it. Use one made by rpc.Dial, which reconnects after the
// server restarts; one made by rpc.NewClient stays broken once its
// connection fails: the client's sessions then expire, and Lock retries
// until its context ends.
type Caller interface {
	Call(ctx context.Context, method string, args, reply any) error
}

var _ Caller = (*rpc.Client)(nil)

// minBackoff is the first pause before retrying a request that failed at
// once (a lost connection, say); it doubles up to the call timeout.
const minBackoff = 10 * time.Millisecond

// Client talks to a lock Server. It keeps one session at a time on the
// server, renewed in the background while it is open, and every lock the
// client holds belongs to that session: one renewal keeps them all. If the
// session is lost (the server restarted, or could not be reached for a
// TTL), every lease of it ends, and the next Lock opens a new session.
//
// A Client is safe for concurrent use by multiple goroutines.
type Client struct {
	caller Caller
	opts   clientOptions

	// life is the client's lifetime: it ends when Close is called. Go's
	// rule is to pass a Context to each call rather than keep one in a
	// struct; that rule is about a call's deadline and values. A lifetime
	// belongs to the object instead: it ends once, at Close, carries
	// nothing, and is only used to cut waits short (life.Done() in a
	// select, or context.AfterFunc) and as the parent of shorter lifetimes,
	// here each session's. lock, lock/peer and mapreduce keep every
	// object's lifetime this way, as a context in the struct, rather than
	// as a channel closed by Close.
	life context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup // the sessions' renewal loops and lease watchdogs
	once sync.Once

	mu      sync.Mutex // protects sess, opening, closed
	sess    *clientSession
	opening chan struct{} // closed when the session being opened is ready; nil if none
	closed  bool
}

// NewClient returns a client of the lock service that c reaches. It does
// not contact the server until the first Lock or TryLock. Close the client
// when done; closing it does not close c.
func NewClient(c Caller, opts ...ClientOption) *Client {
	cl := &Client{caller: c, opts: newClientOptions(opts)}
	cl.life, cl.stop = context.WithCancel(context.Background())
	return cl
}

// Mutex returns a Mutex for the lock called name. Mutexes are cheap;
// several may name the same lock, and then exclude each other like Mutexes
// of different clients.
func (c *Client) Mutex(name string) *Mutex {
	return &Mutex{c: c, name: name, turn: make(chan struct{}, 1)}
}

// Close ends the client's session, which releases every lock it holds at
// once (no lock-delay), and stops its renewals. Leases still held end with
// ErrClosed; Lock calls in progress return ErrClosed. Close tells the server
// with one request, waiting for it at most the call timeout; if that is
// lost, the session simply expires. Close is idempotent.
func (c *Client) Close() error {
	c.once.Do(func() {
		c.mu.Lock()
		c.closed = true
		sess := c.sess
		c.mu.Unlock()
		if sess != nil && sess.end(ErrClosed) {
			ctx, cancel := context.WithTimeout(context.Background(), c.opts.callTimeout)
			_ = c.caller.Call(ctx, methodClose, &closeArgs{Session: sess.ref}, &closeReply{})
			cancel()
		}
		c.stop()
		c.wg.Wait()
	})
	return nil
}

// session returns the client's live session, opening one if needed. Only
// one goroutine opens a session at a time; the others wait for it.
func (c *Client) session(ctx context.Context) (*clientSession, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return nil, ErrClosed
		case c.sess != nil && c.sess.life.Err() == nil:
			s := c.sess
			c.mu.Unlock()
			return s, nil
		case c.opening != nil:
			wait := c.opening
			c.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		opening := make(chan struct{})
		c.opening = opening
		c.mu.Unlock()

		s, err := c.openSession(ctx)

		c.mu.Lock()
		c.opening = nil
		close(opening)
		if err == nil && c.closed {
			err = ErrClosed // Close ran meanwhile; the session will expire
			s.end(ErrClosed)
		}
		if err == nil {
			c.sess = s
		}
		c.mu.Unlock()
		return s, err
	}
}

// openSession asks the server for a session and starts renewing it.
func (c *Client) openSession(ctx context.Context) (*clientSession, error) {
	var reply openReply
	sent := c.opts.clock.Now()
	if err := c.call(ctx, nil, methodOpen, &openArgs{Client: c.opts.name}, &reply, c.opts.callTimeout); err != nil {
		return nil, err
	}
	if reply.TTL <= 0 {
		return nil, fmt.Errorf("lock: server granted a session with TTL %v", reply.TTL)
	}
	return c.startSession(reply.Session, reply.TTL, sent), nil
}

// call sends one request until a reply comes back, and returns its error.
// Each attempt waits at most timeout for its reply; a request that fails
// at once (no connection) is retried after a pause that doubles up to
// timeout. Every request of the protocol is idempotent, so repeating one
// is safe. call gives up when ctx ends (ctx.Err()), when sess ends (why it
// ended), when the client is closed (ErrClosed), or on an error that
// retrying cannot fix (the handler's own, or a misconfigured rpc client).
func (c *Client) call(ctx context.Context, sess *clientSession, method string, args, reply any, timeout time.Duration) error {
	life := c.life
	if sess != nil {
		life = sess.life
	}
	// lctx ends with ctx or with life (Close, or the session's end): it
	// bounds every attempt and every pause.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(life, cancel)()
	backoff := retry.Backoff{Initial: minBackoff, Max: timeout}
	for {
		actx, cancelAttempt := context.WithTimeout(lctx, timeout)
		err := c.caller.Call(actx, method, args, reply)
		cancelAttempt()
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case sess != nil && sess.life.Err() != nil:
			return sess.err()
		case c.life.Err() != nil:
			return ErrClosed
		case permanent(err):
			return err
		case errors.Is(err, context.DeadlineExceeded):
			if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
				// ctx's deadline has passed but its timer has not fired
				// yet: the rpc client refuses the call at once, and
				// retrying now would spin until the timer fires.
				return context.DeadlineExceeded
			}
			continue // the attempt has waited already
		}
		_ = backoff.Wait(lctx) // cut short: the next attempt fails at once, and the switch says why
	}
}

// permanent reports whether a request that failed with err would fail
// again: the handler refused it (a bad lock name, a server that cannot save
// its state), or the rpc client or server is not set up for this service
// (no such service, another codec, failed authentication). A network that
// corrupts messages could also cause the codec errors; over TCP and the
// simulator without Corrupt faults, they mean a misconfiguration, and a
// clear error beats retrying for ever.
func permanent(err error) bool {
	if errors.Is(err, rpc.ErrClosed) || errors.Is(err, rpc.ErrUnknownService) ||
		errors.Is(err, rpc.ErrUnknownMethod) || errors.Is(err, rpc.ErrBadRequest) ||
		errors.Is(err, rpc.ErrBadReply) || errors.Is(err, rpc.ErrUnauthenticated) {
		return true
	}
	var re *rpc.RemoteError
	return errors.As(err, &re) && re.Err == nil
}
