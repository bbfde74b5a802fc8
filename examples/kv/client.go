package main

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rpc"
)

// client is one client of the KV service.
type client struct {
	name  string
	rc    *rpc.Client
	naive bool          // resend calls as new calls, without at-most-once
	wait  time.Duration // how long a naive client waits for a reply before resending
	// naiveRetries counts the naive client's resends; only the client's
	// own goroutine touches it. (With at-most-once, rc.Stats counts them.)
	naiveRetries int64
}

// call makes one call, retried until it is answered. With at-most-once
// (the default), rpc.WithRetry resends it and the server runs it once.
// Naively, the client resends it as a new call after each timeout, and the
// server runs every copy that reaches it.
func (c *client) call(ctx context.Context, method string, args, reply any) error {
	if !c.naive {
		return c.rc.Call(ctx, method, args, reply)
	}
	for {
		attempt, cancel := context.WithTimeout(ctx, c.wait)
		err := c.rc.Call(attempt, method, args, reply)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return err
		}
		c.naiveRetries++
	}
}

// get reads key's value and version.
func (c *client) get(ctx context.Context, key string) (Entry, error) {
	var e Entry
	err := c.call(ctx, "KV.Get", &key, &e)
	return e, err
}

// put writes value to key if key is still at version, and returns the new
// entry; it fails with errConflict if someone else wrote first.
func (c *client) put(ctx context.Context, key string, value, version int) (Entry, error) {
	var e Entry
	err := c.call(ctx, "KV.Put", &PutArgs{Key: key, Value: value, Version: version}, &e)
	return e, err
}

// increment adds one to key by read-modify-write: it reads the value and
// its version, and writes value+1 if the version has not changed; if it
// has, it reads again and retries. It returns how many times the server
// refused its Put.
func (c *client) increment(ctx context.Context, key string) (refused int, err error) {
	for {
		e, err := c.get(ctx, key)
		if err != nil {
			return refused, err
		}
		_, err = c.put(ctx, key, e.Value+1, e.Version)
		if !errors.Is(err, errConflict) {
			return refused, err
		}
		refused++
	}
}

// retries returns how many requests c has resent so far.
func (c *client) retries() int64 { return c.naiveRetries + c.rc.Stats().Retries }

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
