package lock

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// roundPause is how long a ClusterCaller waits after every server of the
// cluster has failed it once, so that an election can finish.
const roundPause = 50 * time.Millisecond

// ClusterCaller is a Caller for a cluster of RaftServers: it sends each
// call to the server it believes leads, follows a follower's hint to the
// leader, and moves on to the next server when one cannot be reached or
// cannot serve the call, pausing after each full round so that an
// election can finish. So NewClient(NewClusterCaller(...)) gives the same
// Mutex, Lease and fencing tokens as a single Server, and a leader's crash
// costs the client an election, not its locks. A server that has died
// silently (no connection refused, no reset) costs a call its timeout
// (WithCallTimeout) before the next server is tried.
//
// A ClusterCaller is safe for concurrent use by multiple goroutines.
type ClusterCaller struct {
	dialer   transport.Dialer
	servers  []string
	dialOpts []rpc.DialOption

	mu      sync.Mutex // protects the fields below; never held across a call
	leader  int        // index in servers of the server to try first
	clients map[string]*rpc.Client
	closed  bool
}

var _ Caller = (*ClusterCaller)(nil)

// NewClusterCaller returns a caller of the RaftServers whose client
// addresses are servers, reached through d, with opts for each rpc
// connection (tracing, a codec). It connects lazily; Close it after the
// lock Client that uses it.
func NewClusterCaller(d transport.Dialer, servers []string, opts ...rpc.DialOption) *ClusterCaller {
	return &ClusterCaller{dialer: d, servers: slices.Clone(servers), dialOpts: opts, clients: map[string]*rpc.Client{}}
}

// Call sends one request to the cluster's leader and returns its reply,
// trying server after server until one serves it. It blocks until then,
// or until ctx ends (then it returns ctx's error). It returns the
// handler's own error (a bad request) at once, and an error matching
// ErrClosed and rpc.ErrClosed after Close.
func (c *ClusterCaller) Call(ctx context.Context, method string, args, reply any) error {
	rd, _ := reply.(redirector)
	for attempts := 1; ; attempts++ {
		i, srv, err := c.current()
		if err != nil {
			return err
		}
		if rd != nil {
			*rd.redirected() = redirect{} // a decoded reply leaves zero fields as they were
		}
		err = c.try(ctx, srv, method, args, reply)
		switch {
		case err == nil && (rd == nil || !rd.redirected().Retry):
			return nil
		case err == nil:
			c.moveOn(i, rd.redirected().Leader)
		case ctx.Err() != nil:
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				c.moveOn(i, "") // the server did not answer in time: perhaps cut off
			}
			return ctx.Err()
		case permanent(err):
			return err
		default:
			c.moveOn(i, "") // unreachable, or lost the connection
		}
		if attempts%len(c.servers) == 0 {
			t := time.NewTimer(roundPause)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
	}
}

// current returns the server to try, or ErrClosed.
func (c *ClusterCaller) current() (int, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, "", fmt.Errorf("%w: %w", ErrClosed, rpc.ErrClosed)
	}
	return c.leader, c.servers[c.leader], nil
}

// moveOn leaves server i, which could not serve a call, for hint if it
// is one of the cluster's, or the next server. If another call has
// moved on from i already, it stays where that one went.
func (c *ClusterCaller) moveOn(i int, hint string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.leader != i {
		return
	}
	if j := slices.Index(c.servers, hint); j >= 0 && j != i {
		c.leader = j
		return
	}
	c.leader = (i + 1) % len(c.servers)
}

// try makes one attempt at one server.
func (c *ClusterCaller) try(ctx context.Context, srv, method string, args, reply any) error {
	rc, err := c.client(ctx, srv)
	if err != nil {
		return err
	}
	return rc.Call(ctx, method, args, reply)
}

// client returns the rpc client of srv, dialing it if needed. rpc.Dial's
// clients reconnect by themselves, so each server is dialed once.
func (c *ClusterCaller) client(ctx context.Context, srv string) (*rpc.Client, error) {
	c.mu.Lock()
	rc := c.clients[srv]
	c.mu.Unlock()
	if rc != nil {
		return rc, nil
	}
	rc, err := rpc.Dial(ctx, srv, append([]rpc.DialOption{rpc.WithDialer(c.dialer)}, c.dialOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("lock: dial %s: %w", srv, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		_ = rc.Close()
		return nil, fmt.Errorf("%w: %w", ErrClosed, rpc.ErrClosed)
	}
	if old := c.clients[srv]; old != nil { // another call dialed it meanwhile
		_ = rc.Close()
		return old, nil
	}
	c.clients[srv] = rc
	return rc, nil
}

// Close closes the caller's connections. Calls in progress fail; later
// ones return an error matching ErrClosed. Close is idempotent.
func (c *ClusterCaller) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, rc := range c.clients {
		_ = rc.Close()
	}
	clear(c.clients)
	return nil
}
