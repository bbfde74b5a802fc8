// Package tally is a student's first service on distsys: a server that
// keeps named counters, and a client that adds to them over rpc.
//
// It is the skeleton of a course project. The server is a plain Go type
// whose methods follow net/rpc's rule (func (t *T) Name(args *A, reply *R)
// error); rpc.Server serves it over any transport.Listener, so the same
// code runs on real TCP in a program and on a simulated, lossy network in
// its tests. Replace the counters with your key-value store, lock server
// or coordinator, and keep the shape.
package tally

import (
	"context"
	"sync"

	"github.com/distsys-kit/distsys/rpc"
)

// Server keeps counters by name. Its exported methods are the rpc service.
type Server struct {
	mu     sync.Mutex // protects counts
	counts map[string]int
}

// NewServer returns a server with every counter at zero.
func NewServer() *Server { return &Server{counts: make(map[string]int)} }

// AddArgs asks to add Delta to the counter Name.
type AddArgs struct {
	Name  string
	Delta int
}

// AddReply is the counter's value after the addition.
type AddReply struct{ Value int }

// Add adds args.Delta to the counter args.Name. It is not idempotent:
// run twice, it adds twice, which is why the client's retries must be at
// most once (rpc.WithRetry).
func (s *Server) Add(args *AddArgs, reply *AddReply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts[args.Name] += args.Delta
	reply.Value = s.counts[args.Name]
	return nil
}

// Value returns the counter name as the server holds it, for tests.
func (s *Server) Value(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[name]
}

// Client adds to counters on a server.
type Client struct{ rc *rpc.Client }

// NewClient returns a client that calls the server through rc.
func NewClient(rc *rpc.Client) *Client { return &Client{rc: rc} }

// Add adds delta to the counter name and returns its new value.
func (c *Client) Add(ctx context.Context, name string, delta int) (int, error) {
	var reply AddReply
	err := c.rc.Call(ctx, "Server.Add", &AddArgs{Name: name, Delta: delta}, &reply)
	return reply.Value, err
}
