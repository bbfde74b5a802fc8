package kvraft

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/internal/retry"
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// Defaults of a Clerk.
const (
	DefaultAttemptTimeout = 500 * time.Millisecond
	DefaultRoundPause     = 50 * time.Millisecond
)

// ClerkOption configures a Clerk (NewClerk).
type ClerkOption interface{ apply(*Clerk) }

type clerkOptionFunc func(*Clerk)

func (f clerkOptionFunc) apply(c *Clerk) { f(c) }

// WithClientID sets the clerk's session ID, which no other clerk may
// use. The default is a random 64-bit number (crypto/rand); tests set it
// to replay a run.
func WithClientID(id uint64) ClerkOption { return clerkOptionFunc(func(c *Clerk) { c.id = id }) }

// WithAttemptTimeout bounds one call to one replica: after it, the clerk
// tries the next. Default 500ms. It must exceed an election timeout
// plus a round trip, or a slow leader is never waited for.
func WithAttemptTimeout(d time.Duration) ClerkOption {
	return clerkOptionFunc(func(c *Clerk) { c.attempt = d })
}

// WithDialOptions adds rpc options to the clerk's connections (tracing,
// a codec).
func WithDialOptions(opts ...rpc.DialOption) ClerkOption {
	return clerkOptionFunc(func(c *Clerk) { c.dialOpts = append(c.dialOpts, opts...) })
}

// Clerk is a client of the replicated key-value service. It finds the
// leader (first the replica that answered last, then the leader a
// follower names, then each replica in turn, pausing after a full round
// so an election can finish) and retries each operation until it gets an
// answer or ctx ends. Writes carry the clerk's session, so a retried
// write applies once.
//
// A Clerk is safe for concurrent use, but runs one operation at a time
// (its session allows one outstanding write): use a Clerk per goroutine
// for concurrency.
type Clerk struct {
	dialer   transport.Dialer
	servers  []string
	id       uint64
	attempt  time.Duration
	dialOpts []rpc.DialOption

	mu      sync.Mutex // held for a whole operation; protects the fields below
	seq     uint64
	leader  int // index in servers of the replica to try first
	clients map[string]*rpc.Client
	closed  bool
}

// NewClerk returns a clerk of the replicas whose clerk addresses are
// servers, reached through d. It connects lazily.
func NewClerk(d transport.Dialer, servers []string, opts ...ClerkOption) *Clerk {
	c := &Clerk{dialer: d, servers: slices.Clone(servers), attempt: DefaultAttemptTimeout, clients: map[string]*rpc.Client{}}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	c.id = binary.BigEndian.Uint64(b[:]) | 1
	for _, o := range opts {
		o.apply(c)
	}
	return c
}

// Get returns key's value and version, or kv.ErrNoKey if key was never
// written. It is linearizable. It blocks until a replica answers or ctx
// ends (then ctx.Err()), and returns ErrClosed after Close.
func (c *Clerk) Get(ctx context.Context, key string) (string, uint64, error) {
	r, err := c.call(ctx, "Get", &Args{Key: key})
	switch {
	case err != nil:
		return "", 0, fmt.Errorf("kvraft: get %q: %w", key, err)
	case !r.Found:
		return "", 0, kv.ErrNoKey
	}
	return r.Value, r.Version, nil
}

// Put sets key's value and returns its new version. It blocks until the
// write is applied or ctx ends; then the error wraps ErrMaybeApplied if
// the write may have been applied, or is ctx.Err() if it cannot have been.
func (c *Clerk) Put(ctx context.Context, key, value string) (uint64, error) {
	r, err := c.call(ctx, "Put", &Args{Key: key, Value: value})
	if err != nil {
		return 0, fmt.Errorf("kvraft: put %q: %w", key, err)
	}
	return r.Version, nil
}

// Append adds value to the end of key's value, once however often it is
// resent, and returns the new version. It blocks as Put does.
func (c *Clerk) Append(ctx context.Context, key, value string) (uint64, error) {
	r, err := c.call(ctx, "Append", &Args{Key: key, Value: value})
	if err != nil {
		return 0, fmt.Errorf("kvraft: append %q: %w", key, err)
	}
	return r.Version, nil
}

// PutIf sets key's value if key is at version (0: if key does not exist)
// and returns its new version; otherwise it returns a *kv.ConflictError
// (matching kv.ErrConflict) naming the version key is at. A retry after a
// lost reply gets the first attempt's answer, not a conflict with its own
// write. It blocks as Put does.
func (c *Clerk) PutIf(ctx context.Context, key, value string, version uint64) (uint64, error) {
	r, err := c.call(ctx, "PutIf", &Args{Key: key, Value: value, Version: version})
	switch {
	case err != nil:
		return 0, fmt.Errorf("kvraft: put %q if at version %d: %w", key, version, err)
	case !r.Found:
		return r.Version, &kv.ConflictError{Key: key, Want: version, Have: r.Version}
	}
	return r.Version, nil
}

// Close closes the clerk's connections. Operations under way finish
// first; later ones return ErrClosed.
func (c *Clerk) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for _, rc := range c.clients {
		_ = rc.Close()
	}
	clear(c.clients)
	return nil
}

// call runs one operation to completion: one Seq, as many attempts as it
// takes.
func (c *Clerk) call(ctx context.Context, method string, a *Args) (Reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Reply{}, ErrClosed
	}
	write := method != "Get"
	if write {
		c.seq++
		a.Client, a.Seq = c.id, c.seq
	}
	maybe := false // whether an attempt may have applied the write
	tried := 0     // replicas tried since the last pause
	round := retry.Backoff{Initial: DefaultRoundPause}
	for {
		srv := c.servers[c.leader]
		var r Reply
		err := c.try(ctx, srv, method, a, &r)
		switch {
		case err == nil && r.Status == OK:
			return r, nil
		case err == nil && r.Status == WrongLeader && r.Leader != "" && r.Leader != srv:
			if i := slices.Index(c.servers, r.Leader); i >= 0 {
				c.leader = i
				continue // a hint costs no round
			}
		case err == nil && r.Status == Maybe:
			maybe = true
		case err != nil && ctx.Err() == nil && !errors.Is(err, errNotSent):
			maybe = true // the request may have reached the replica
		}
		if ctx.Err() != nil {
			if write && maybe {
				return Reply{}, fmt.Errorf("%w: %w", ErrMaybeApplied, ctx.Err())
			}
			return Reply{}, ctx.Err()
		}
		c.leader = (c.leader + 1) % len(c.servers)
		if tried++; tried == len(c.servers) {
			tried = 0
			if err := round.Wait(ctx); err != nil {
				continue // ctx ended: the next turn returns
			}
		}
	}
}

// errNotSent marks an attempt that could not reach the replica at all.
var errNotSent = errors.New("kvraft: not sent")

// try makes one attempt at one replica, within the attempt timeout.
func (c *Clerk) try(ctx context.Context, srv, method string, a *Args, r *Reply) error {
	ctx, cancel := context.WithTimeout(ctx, c.attempt)
	defer cancel()
	rc, ok := c.clients[srv]
	if !ok {
		var err error
		rc, err = rpc.Dial(ctx, srv, append([]rpc.DialOption{rpc.WithDialer(c.dialer)}, c.dialOpts...)...)
		if err != nil {
			return fmt.Errorf("%w: %w", errNotSent, err)
		}
		c.clients[srv] = rc
	}
	return rc.Call(ctx, ServiceName+"."+method, a, r)
}
