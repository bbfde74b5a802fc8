package kvstore

import (
	"context"
	"errors"
)

// Caller is the part of an rpc client that a Client uses; *rpc.Client
// implements it. Give it rpc.WithRetry for at-most-once retries, and
// rpc.WithErrors(Errors...) so that errors.Is(err, ErrConflict) works.
type Caller interface {
	Call(ctx context.Context, method string, args, reply any) error
}

// Client calls a Store over rpc. It is safe for concurrent use by multiple
// goroutines.
type Client struct {
	c Caller
}

// NewClient returns a client that calls through c.
func NewClient(c Caller) *Client { return &Client{c: c} }

// Get returns key's value and version.
func (c *Client) Get(ctx context.Context, key string) (Entry, error) {
	var e Entry
	err := c.c.Call(ctx, ServiceName+".Get", &key, &e)
	return e, err
}

// Add adds delta to key's value and returns the new entry.
func (c *Client) Add(ctx context.Context, key string, delta int) (Entry, error) {
	var e Entry
	err := c.c.Call(ctx, ServiceName+".Add", &AddArgs{Key: key, Delta: delta}, &e)
	return e, err
}

// Put writes value to key if key is still at version, and returns the new
// entry; it fails with an error matching ErrConflict if someone else wrote
// first.
func (c *Client) Put(ctx context.Context, key string, value, version int) (Entry, error) {
	var e Entry
	err := c.c.Call(ctx, ServiceName+".Put", &PutArgs{Key: key, Value: value, Version: version}, &e)
	return e, err
}

// Increment adds one to key by read-modify-write: it reads the value and
// its version, and writes value+1 if the version has not changed; if it
// has, it reads again and retries. It returns the new entry and how many
// times the server refused its Put.
func (c *Client) Increment(ctx context.Context, key string) (e Entry, refused int, err error) {
	for {
		e, err = c.Get(ctx, key)
		if err != nil {
			return e, refused, err
		}
		e, err = c.Put(ctx, key, e.Value+1, e.Version)
		if !errors.Is(err, ErrConflict) {
			return e, refused, err
		}
		refused++
	}
}
