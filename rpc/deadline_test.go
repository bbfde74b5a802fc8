package rpc_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Slow is a service whose handler ignores its context.
type Slow struct{}

// Sleep sleeps for *args, whatever its caller does.
func (Slow) Sleep(args *time.Duration, reply *struct{}) error {
	time.Sleep(*args)
	return nil
}

// TestCallReturnsByItsDeadline checks, in virtual time, that a call returns
// exactly at its context's deadline, with context.DeadlineExceeded, whatever
// the server or the network does, and that nothing is left running.
func TestCallReturnsByItsDeadline(t *testing.T) {
	const timeout = time.Second
	tests := []struct {
		name   string
		retry  bool
		method string
		args   any
		// listen returns a dialer that reaches the server; it may serve
		// itself (or not at all) and must clean up.
		listen func(t *testing.T) transport.Dialer
	}{
		{name: "ServerNeverAnswers", listen: mute},
		{name: "ServerNeverAnswers/retrying", retry: true, listen: mute},
		{name: "PartitionedServer", listen: partitioned},
		{name: "PartitionedServer/retrying", retry: true, listen: partitioned},
		{name: "SlowHandler", method: "Slow.Sleep", args: ptr(time.Minute), listen: served},
		{name: "SlowHandler/retrying", retry: true, method: "Slow.Sleep", args: ptr(time.Minute), listen: served},
		{name: "NetsimPartition", listen: netsimCut(func(n *netsim.Network) { n.Partition([]string{"client"}, []string{"server"}) })},
		{name: "NetsimPartition/retrying", retry: true, listen: netsimCut(func(n *netsim.Network) { n.Partition([]string{"client"}, []string{"server"}) })},
		{name: "NetsimCrash", listen: netsimCut(func(n *netsim.Network) { n.Crash("server") })},
		{name: "NetsimCrash/retrying", retry: true, listen: netsimCut(func(n *netsim.Network) { n.Crash("server") })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := tt.listen(t)
				var opts []rpc.DialOption
				if tt.retry {
					opts = append(opts, rpc.WithRetry(rpc.RetryPolicy{Interval: 100 * time.Millisecond}))
				}
				c, err := rpc.Dial(t.Context(), "server", append(opts, rpc.WithDialer(l))...)
				require.NoError(t, err)
				defer c.Close()

				method, args := tt.method, tt.args
				if method == "" {
					method, args = "Arith.Add", &Args{A: 1}
				}
				ctx, cancel := context.WithTimeout(t.Context(), timeout)
				defer cancel()
				start := time.Now()
				err = c.Call(ctx, method, args, new(struct{}))
				assert.Equal(t, timeout, time.Since(start), "virtual time taken by the call")
				require.ErrorIs(t, err, context.DeadlineExceeded)
			})
		})
	}
}

// netsimCut serves an Arith on a simulated network, and does cut to it once
// the client has connected (at its first Send).
func netsimCut(cut func(n *netsim.Network)) func(t *testing.T) transport.Dialer {
	return func(t *testing.T) transport.Dialer {
		n := netsim.NewNetwork(1)
		t.Cleanup(func() { require.NoError(t, n.Close()) })
		l, err := n.Listen("server")
		require.NoError(t, err)
		serve(t, l)
		d := n.Dialer("client")
		return transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
			c, err := d.Dial(ctx, addr)
			if err != nil {
				return nil, err
			}
			return &cutOnSend{Conn: c, cut: func() { cut(n) }}, nil
		})
	}
}

// cutOnSend runs cut before its first Send.
type cutOnSend struct {
	transport.Conn
	once sync.Once
	cut  func()
}

func (c *cutOnSend) Send(ctx context.Context, msg []byte) error {
	c.once.Do(c.cut)
	return c.Conn.Send(ctx, msg)
}

// mute is a server that reads requests and never answers.
func mute(t *testing.T) transport.Dialer {
	_, l, d := simNet(t, 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := l.Accept(context.Background())
		if err != nil {
			return
		}
		defer c.Close()
		for {
			if _, err := c.Recv(context.Background()); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done // the client's Close ends the Recv loop
	})
	return d
}

// partitioned is a server that no message reaches, and whose replies
// would not get out.
func partitioned(t *testing.T) transport.Dialer {
	n, l, d := simNet(t, 0)
	require.NoError(t, n.SetDefaultFaults(transport.Faults{Drop: 1}))
	serve(t, l)
	return d
}

// served is a simulated network's server of an Arith and a Slow.
func served(t *testing.T) transport.Dialer {
	_, l, d := simNet(t, 0)
	serve(t, l)
	return d
}

func serve(t *testing.T, l transport.Listener) *rpc.Server {
	srv := rpc.NewServer()
	require.NoError(t, srv.Register(newArith()))
	require.NoError(t, srv.Register(Slow{}))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		require.NoError(t, srv.Close()) // waits for Slow.Sleep: virtual time runs on
		if err := <-done; !errors.Is(err, rpc.ErrServerClosed) {
			require.ErrorIs(t, err, net.ErrClosed, "the listener failed (crashed)")
		}
	})
	return srv
}

func ptr[T any](v T) *T { return &v }

// TestSlowHandlerDoesNotBlockOthers checks that a handler that runs long
// delays no other call on the same connection.
func TestSlowHandlerDoesNotBlockOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(served(t)))
		require.NoError(t, err)
		defer c.Close()
		slow := c.Go(t.Context(), "Slow.Sleep", ptr(time.Hour), new(struct{}), nil)
		start := time.Now()
		var r Reply
		require.NoError(t, c.Call(t.Context(), "Arith.Add", &Args{A: 1, B: 2}, &r))
		assert.Equal(t, 3, r.C)
		assert.Zero(t, time.Since(start), "the fast call waited for nothing")
		require.NoError(t, (<-slow.Done).Error)
		assert.Equal(t, time.Hour, time.Since(start))
	})
}
