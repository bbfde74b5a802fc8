package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
)

// errGaveUp is what a client's operation returns when it got no answer in
// its time, resends included: the network is losing too much.
var errGaveUp = errors.New("gave up")

// client is one client of the KV service (a kv.Client), as the demo
// drives it.
type client struct {
	name    string
	rc      *rpc.Client
	kv      *kv.Client
	naive   *naiveCaller  // nil with at-most-once retries
	timeout time.Duration // how long one operation may take, resends included
}

// newClient returns the client called name over rc; with naive, it resends
// a call that gets no reply in wait as a new call.
func newClient(name string, rc *rpc.Client, naive bool, wait, timeout time.Duration) *client {
	c := &client{name: name, rc: rc, timeout: timeout}
	if naive {
		c.naive = &naiveCaller{rc: rc, wait: wait}
		c.kv = kv.NewClient(c.naive)
	} else {
		c.kv = kv.NewClient(rc) // rpc.WithRetry resends, and the server runs each call once
	}
	return c
}

// naiveCaller resends a call that gets no reply in time as a new call,
// with nothing to tell the server it is the same one: the server runs
// every copy that reaches it.
type naiveCaller struct {
	rc      *rpc.Client
	wait    time.Duration
	resends atomic.Int64
}

// Call calls until a reply arrives or ctx ends.
func (n *naiveCaller) Call(ctx context.Context, method string, args, reply any) error {
	for {
		attempt, cancel := context.WithTimeout(ctx, n.wait)
		err := n.rc.Call(attempt, method, args, reply)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return err
		}
		n.resends.Add(1)
	}
}

// do runs f with the client's time for one operation; if that runs out,
// it returns errGaveUp.
func (c *client) do(ctx context.Context, what string, f func(ctx context.Context) error) error {
	octx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err := f(octx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("%s %w on %s after %v: no answer", c.name, errGaveUp, what, c.timeout)
	}
	return err
}

// appendMark appends mark to key.
func (c *client) appendMark(ctx context.Context, key, mark string) error {
	return c.do(ctx, "an append", func(ctx context.Context) error {
		_, err := c.kv.Append(ctx, key, mark)
		return err
	})
}

// number reads key as a number and its version; an absent key is 0 at
// version 0.
func (c *client) number(ctx context.Context, key string) (n int, version uint64, err error) {
	err = c.do(ctx, "a read", func(ctx context.Context) error {
		v, ver, err := c.kv.Get(ctx, key)
		switch {
		case errors.Is(err, kv.ErrNoKey):
			return nil
		case err != nil:
			return err
		}
		version = ver
		n, err = strconv.Atoi(v)
		return err
	})
	return n, version, err
}

// putIf writes n to key if key is still at version; it fails with an
// error matching kv.ErrConflict if someone wrote first.
func (c *client) putIf(ctx context.Context, key string, n int, version uint64) (uint64, error) {
	var got uint64
	err := c.do(ctx, "a write", func(ctx context.Context) error {
		var err error
		got, err = c.kv.PutIf(ctx, key, strconv.Itoa(n), version)
		return err
	})
	return got, err
}

// retries returns how many requests c has resent so far.
func (c *client) retries() int64 {
	n := c.rc.Stats().Retries
	if c.naive != nil {
		n += c.naive.resends.Load()
	}
	return n
}

// each runs f for every client at once and waits for all of them.
func each(clients []*client, f func(c *client) error) error {
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() { errs[i] = f(c) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// totalRetries returns how many requests the clients have resent so far.
func totalRetries(clients []*client) (n int64) {
	for _, c := range clients {
		n += c.retries()
	}
	return n
}
