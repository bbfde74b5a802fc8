package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// safety bounds every wait in a test, so that a bug fails the test instead
// of hanging it. Inside a synctest bubble it is virtual time.
const safety = 30 * time.Second

// errDivByZero is a sentinel the test service declares with WithErrors.
var errDivByZero = errors.New("arith: divide by zero")

// Arith is the test service.
type Arith struct {
	n       atomic.Int64  // Incr's counter: calls that took effect
	waited  atomic.Int64  // Wait calls released
	ended   atomic.Int64  // Wait calls whose context ended first
	entered chan struct{} // if not nil, Wait sends on it when it starts
	release chan struct{} // Wait returns when it is closed (or ctx ends)
}

func newArith() *Arith { return &Arith{entered: make(chan struct{}, 64), release: make(chan struct{})} }

// Args are two numbers.
type Args struct{ A, B int }

// Reply is one number.
type Reply struct{ C int }

// DeadlineReply tells what deadline the handler saw.
type DeadlineReply struct {
	Has  bool
	Left time.Duration
}

// Add is the net/rpc shape.
func (t *Arith) Add(args *Args, reply *Reply) error {
	reply.C = args.A + args.B
	return nil
}

// Mul takes a context.
func (t *Arith) Mul(ctx context.Context, args *Args, reply *Reply) error {
	reply.C = args.A * args.B
	return nil
}

// Div fails with a wrapped sentinel when B is 0.
func (t *Arith) Div(args *Args, reply *Reply) error {
	if args.B == 0 {
		return fmt.Errorf("dividing %d: %w", args.A, errDivByZero)
	}
	reply.C = args.A / args.B
	return nil
}

// Incr is not idempotent: it adds A to the counter and returns the new
// value, so every call that takes effect returns a different number.
func (t *Arith) Incr(args *Args, reply *Reply) error {
	reply.C = int(t.n.Add(int64(args.A)))
	return nil
}

// Wait announces itself on entered, then blocks until release is closed or
// its context ends.
func (t *Arith) Wait(ctx context.Context, args *Args, reply *Reply) error {
	t.entered <- struct{}{}
	select {
	case <-t.release:
		t.waited.Add(1)
		reply.C = args.A
		return nil
	case <-ctx.Done():
		t.ended.Add(1)
		return ctx.Err()
	}
}

// Deadline reports the deadline of its context.
func (t *Arith) Deadline(ctx context.Context, args *Args, reply *DeadlineReply) error {
	d, ok := ctx.Deadline()
	reply.Has = ok
	if ok {
		reply.Left = time.Until(d)
	}
	return nil
}

// Echo returns its argument.
func (t *Arith) Echo(args *[]byte, reply *[]byte) error {
	*reply = *args
	return nil
}

// A network is one transport the suite runs over.
type network struct {
	name   string
	bubble bool // runs in a synctest bubble: in-memory, virtual time
	lossy  bool // loses, duplicates, delays and reorders messages: clients retry
	// listen returns a listener and a dialer that reaches it (at any address).
	listen func(tb testing.TB) (transport.Listener, transport.Dialer)
}

// lossyFaults is what the lossy networks do to messages in each direction.
var lossyFaults = transport.Faults{
	Drop: 0.1, Duplicate: 0.1, Reorder: 0.1,
	Delay: time.Millisecond, Jitter: 2 * time.Millisecond,
}

func networks() []network {
	return []network{
		{name: "tcp", listen: tcpNetwork},
		{name: "reliable", listen: reliableNetwork},
		{name: "netsim", bubble: true, listen: func(tb testing.TB) (transport.Listener, transport.Dialer) {
			return netsimNetwork(tb, transport.Faults{})
		}},
		{name: "netsim+faults", bubble: true, lossy: true, listen: func(tb testing.TB) (transport.Listener, transport.Dialer) {
			return netsimNetwork(tb, lossyFaults)
		}},
		{name: "reliable+netsim+faults", bubble: true, listen: reliableOverNetsim},
	}
}

// simNetwork is the fault-free simulated network of the suite, for tests
// that need one.
func simNetwork() network { return networks()[2] }

// simNet is the in-memory network of a test: a simulated network whose
// server listens on node "server" and whose clients dial from node
// "client". Faults go on its links: n.SetFaults("client", "server", f)
// for requests, n.SetFaults("server", "client", f) for replies. (The tests
// once had a private listener over net.Pipe for this; netsim does all it
// did, and its faults are per direction and can change mid-test.)
func simNet(tb testing.TB, seed int64) (n *netsim.Network, l transport.Listener, d transport.Dialer) {
	n = netsim.NewNetwork(seed)
	tb.Cleanup(func() { require.NoError(tb, n.Close()) })
	n.LogSeedOnFailure(tb)
	l, err := n.Listen("server")
	require.NoError(tb, err)
	return n, l, n.Dialer("client")
}

// netsimNetwork is a simulated network whose links all apply f.
func netsimNetwork(tb testing.TB, f transport.Faults) (transport.Listener, transport.Dialer) {
	n, l, d := simNet(tb, 7)
	require.NoError(tb, n.SetDefaultFaults(f))
	return l, d
}

// reliableNetwork is transport/reliable over loopback UDP.
func reliableNetwork(tb testing.TB) (transport.Listener, transport.Dialer) {
	l, err := reliable.Listen("127.0.0.1:0", reliable.Config{})
	require.NoError(tb, err)
	d := reliable.NewDialer(reliable.Config{})
	return l, transport.DialerFunc(func(ctx context.Context, _ string) (transport.Conn, error) {
		return d.Dial(ctx, l.Addr().String())
	})
}

// reliableOverNetsim is transport/reliable over the datagrams of a
// simulated network that loses, duplicates, delays and reorders them: the
// reliable layer hides all that, so rpc sees a reliable transport.
func reliableOverNetsim(tb testing.TB) (transport.Listener, transport.Dialer) {
	n := netsim.NewNetwork(11)
	tb.Cleanup(func() { require.NoError(tb, n.Close()) })
	n.LogSeedOnFailure(tb)
	require.NoError(tb, n.SetDefaultFaults(lossyFaults))
	pc, err := n.ListenPacket("server")
	require.NoError(tb, err)
	cfg := reliable.Config{Seed: 1}
	l, err := reliable.ListenPacket(pc, cfg)
	require.NoError(tb, err)
	var clients atomic.Int64
	return l, transport.DialerFunc(func(ctx context.Context, _ string) (transport.Conn, error) {
		pc, err := n.ListenPacket(fmt.Sprintf("client%d", clients.Add(1)))
		if err != nil {
			return nil, err
		}
		c, err := reliable.DialPacket(ctx, pc, l.Addr(), cfg)
		if err != nil {
			return nil, err
		}
		return c, nil
	})
}

func tcpNetwork(tb testing.TB) (transport.Listener, transport.Dialer) {
	l, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(tb, err)
	return l, transport.DialerFunc(func(ctx context.Context, _ string) (transport.Conn, error) {
		return transport.DialTCP(ctx, l.Addr().String())
	})
}

// env is a server of an Arith on a network, and a way to dial it.
type env struct {
	t      *testing.T
	nw     network
	srv    *rpc.Server
	svc    *Arith
	dialer transport.Dialer
	served chan error // Serve's result
}

// startEnv starts a server with opts on nw. Cleanup closes it and checks
// that Serve returned ErrServerClosed.
func startEnv(t *testing.T, nw network, opts ...rpc.ServerOption) *env {
	t.Helper()
	l, d := nw.listen(t)
	e := &env{t: t, nw: nw, srv: rpc.NewServer(opts...), svc: newArith(), dialer: d, served: make(chan error, 1)}
	require.NoError(t, e.srv.Register(e.svc))
	go func() { e.served <- e.srv.Serve(l) }()
	t.Cleanup(func() {
		require.NoError(t, e.srv.Close())
		require.ErrorIs(t, <-e.served, rpc.ErrServerClosed)
	})
	return e
}

// dial returns a client of the env's server, retrying on lossy networks.
// Cleanup closes it.
func (e *env) dial(opts ...rpc.DialOption) *rpc.Client {
	e.t.Helper()
	if e.nw.lossy {
		opts = append([]rpc.DialOption{rpc.WithRetry(rpc.RetryPolicy{Interval: 20 * time.Millisecond})}, opts...)
	}
	opts = append(opts, rpc.WithDialer(e.dialer))
	c, err := rpc.Dial(testContext(e.t), "server", opts...)
	require.NoError(e.t, err)
	e.t.Cleanup(func() { require.NoError(e.t, c.Close()) })
	return c
}

// testContext returns a context that ends after safety.
func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	tb.Cleanup(cancel)
	return ctx
}

// runOn runs f on nw: inside a synctest bubble if nw is in-memory.
func runOn(t *testing.T, nw network, f func(t *testing.T)) {
	if nw.bubble {
		synctest.Test(t, f)
		return
	}
	f(t)
}

// entered waits until n calls of Wait have started.
func (e *env) entered(n int) {
	e.t.Helper()
	for range n {
		select {
		case <-e.svc.entered:
		case <-time.After(safety):
			e.t.Fatal("Wait was not called")
		}
	}
}
