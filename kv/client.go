package kv

import (
	"context"
	"fmt"
)

// Caller is what a Client sends its calls through: an *rpc.Client (made
// with rpc.WithRetry for exactly-once operations), or anything with the
// same Call.
type Caller interface {
	Call(ctx context.Context, method string, args, reply any) error
}

// Client is a client of the service. Each method makes one call; it blocks
// until the reply arrives or ctx ends, and returns the Caller's error if
// the call fails (ctx.Err(), wrapped, if ctx ended first: then the write
// may or may not have happened). A Client is safe for concurrent use if
// its Caller is, as an *rpc.Client is.
type Client struct {
	c Caller
}

// NewClient returns a client that calls the service through c.
func NewClient(c Caller) *Client { return &Client{c: c} }

// Get returns key's value and version, or ErrNoKey if key was never
// written.
func (c *Client) Get(ctx context.Context, key string) (string, uint64, error) {
	var r GetReply
	if err := c.c.Call(ctx, ServiceName+".Get", &GetArgs{Key: key}, &r); err != nil {
		return "", 0, fmt.Errorf("kv: get %q: %w", key, err)
	}
	if !r.Found {
		return "", 0, ErrNoKey
	}
	return r.Value, r.Version, nil
}

// Put sets key's value and returns its new version. A server refuses a
// write that would go over its Limits with an error wrapping a
// *LimitError, which matches ErrTooLarge or ErrFull; so do Append and
// PutIf.
func (c *Client) Put(ctx context.Context, key, value string) (uint64, error) {
	return c.write(ctx, "Put", "put", key, &PutArgs{Key: key, Value: value})
}

// Append adds value to the end of key's value and returns its new
// version. Without at-most-once retries (rpc.WithRetry), a resent Append
// may run twice.
func (c *Client) Append(ctx context.Context, key, value string) (uint64, error) {
	return c.write(ctx, "Append", "append", key, &PutArgs{Key: key, Value: value})
}

// PutIf sets key's value if key is still at version (0: if key does not
// exist), and returns its new version. If key is at another version, it
// returns a *ConflictError, which matches ErrConflict and says the version
// key is at.
func (c *Client) PutIf(ctx context.Context, key, value string, version uint64) (uint64, error) {
	var r PutReply
	if err := c.c.Call(ctx, ServiceName+".PutIf", &PutIfArgs{Key: key, Value: value, Version: version}, &r); err != nil {
		return 0, fmt.Errorf("kv: put %q if at version %d: %w", key, version, err)
	}
	switch {
	case r.Refused != nil:
		return 0, fmt.Errorf("kv: put %q if at version %d: %w", key, version, r.Refused)
	case !r.Applied:
		return r.Version, &ConflictError{Key: key, Want: version, Have: r.Version}
	}
	return r.Version, nil
}

// write makes a Put or an Append: method is the rpc method, verb the
// word for errors.
func (c *Client) write(ctx context.Context, method, verb, key string, args *PutArgs) (uint64, error) {
	var r PutReply
	if err := c.c.Call(ctx, ServiceName+"."+method, args, &r); err != nil {
		return 0, fmt.Errorf("kv: %s %q: %w", verb, key, err)
	}
	if r.Refused != nil {
		return 0, fmt.Errorf("kv: %s %q: %w", verb, key, r.Refused)
	}
	return r.Version, nil
}
