package main

import (
	"context"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
)

// maxLocksShown bounds the locks the status lists, however many clients
// have made.
const maxLocksShown = 100

// status is the JSON of GET /status.
type status struct {
	cli.Status
	Conns     int64            `json:"conns"`          // open now
	Accepted  int64            `json:"conns_accepted"` // since the start
	Calls     map[string]int64 `json:"calls"`          // by method
	Errors    int64            `json:"call_errors"`
	InFlight  int64            `json:"calls_in_flight"`
	LockCount int              `json:"lock_count"`
	Locks     []lockStatus     `json:"locks"` // the first 100, by name
}

type lockStatus struct {
	Name    string    `json:"name"`
	Holder  string    `json:"holder,omitempty"`
	Token   uint64    `json:"token,omitempty"`
	Since   time.Time `json:"since,omitzero"`
	Waiters []string  `json:"waiters,omitempty"`
}

// statusSource makes the status from the server's parts.
type statusSource struct {
	base  cli.Status
	srv   *lock.Server
	l     *cli.CountingListener
	calls *callCounter
}

func (s statusSource) snapshot() any {
	locks := s.srv.Locks()
	st := status{
		Status:    s.base.Up(time.Now()),
		Conns:     s.l.Open(),
		Accepted:  s.l.Accepted(),
		LockCount: len(locks),
		Locks:     []lockStatus{},
	}
	st.Calls, st.Errors, st.InFlight = s.calls.snapshot()
	for _, li := range locks[:min(len(locks), maxLocksShown)] {
		st.Locks = append(st.Locks, lockStatus{Name: li.Name, Holder: li.Holder, Token: li.Token, Since: li.Since, Waiters: li.Waiters})
	}
	return st
}

// callCounter counts the calls the rpc server runs, by method, through a
// server interceptor; and those in flight, so that a graceful shutdown can
// wait for the last one. It is safe for concurrent use.
type callCounter struct {
	mu       sync.Mutex // protects the fields below
	byMethod map[string]int64
	errors   int64
	inFlight int64
	idle     chan struct{} // closed when inFlight drops to 0; nil while it is 0
}

func (c *callCounter) intercept(ctx context.Context, call *rpc.ServerCall, next rpc.Handler) error {
	c.mu.Lock()
	if c.byMethod == nil {
		c.byMethod = make(map[string]int64) // the service's few methods: it stays small
	}
	c.byMethod[call.Method]++
	if c.inFlight == 0 {
		c.idle = make(chan struct{})
	}
	c.inFlight++
	c.mu.Unlock()

	err := next(ctx, call)

	c.mu.Lock()
	if err != nil {
		c.errors++
	}
	c.inFlight--
	if c.inFlight == 0 {
		close(c.idle)
		c.idle = nil
	}
	c.mu.Unlock()
	return err
}

// drain waits until no call is in flight, or ctx ends (ctx.Err()).
func (c *callCounter) drain(ctx context.Context) error {
	c.mu.Lock()
	idle := c.idle
	c.mu.Unlock()
	if idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *callCounter) snapshot() (byMethod map[string]int64, errors, inFlight int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byMethod = make(map[string]int64, len(c.byMethod))
	for m, n := range c.byMethod {
		byMethod[m] = n
	}
	return byMethod, c.errors, c.inFlight
}
