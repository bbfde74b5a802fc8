package lock_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// fixture runs a lock server on node "lock" of a simulated network
// (netsim, no faults), and can crash it and restart it on the same
// directory.
// Clients dial it through rpc.Dial, so they reconnect after a restart. It
// works inside a synctest bubble, and everything it makes is closed by the
// test's cleanup, newest first: the clients, then the server.
//
//	f := newFixture(t, testConfig())
//	a := f.client(ctx)                // a lock client
//	b, cut := f.cutOffClient(ctx)     // one whose network cut.setCut(true) cuts
//	f.crash(); f.start()              // a server restart
type fixture struct {
	tb   testing.TB
	cfg  lock.Config
	fsys vfs.FS         // where the server keeps its state
	wg   sync.WaitGroup // Serve goroutines

	net *netsim.Network

	mu  sync.Mutex // protects srv
	srv *lock.Server
}

func newFixture(tb testing.TB, cfg lock.Config) *fixture {
	tb.Helper()
	if cfg.Dir == "" {
		cfg.Dir = tb.TempDir()
	}
	f := &fixture{tb: tb, cfg: cfg, fsys: vfs.OS{}, net: newNetwork(tb)}
	require.NoError(tb, f.start())
	tb.Cleanup(f.close)
	return f
}

// newMemFixture is newFixture with the server's directory on an in-memory
// file system, which powerCut can crash.
func newMemFixture(tb testing.TB, cfg lock.Config) (*fixture, *vfs.Mem) {
	tb.Helper()
	m := vfs.NewMem()
	cfg.Dir = "/var/lib/lock"
	f := &fixture{tb: tb, cfg: cfg, fsys: m, net: newNetwork(tb)}
	require.NoError(tb, f.start())
	tb.Cleanup(f.close)
	return f, m
}

// newNetwork returns a network without faults, closed at cleanup (after
// the fixture, whose cleanup is registered later and so runs first).
func newNetwork(tb testing.TB) *netsim.Network {
	n := netsim.NewNetwork(1)
	tb.Cleanup(func() { _ = n.Close() })
	return n
}

// start starts a server on the fixture's directory.
func (f *fixture) start() error {
	srv, err := lock.NewServerFS(f.cfg, f.fsys)
	if err != nil {
		return err
	}
	l, err := f.net.Listen("lock")
	if err != nil {
		_ = srv.Close()
		return err
	}
	f.mu.Lock()
	f.srv = srv
	f.mu.Unlock()
	f.wg.Add(1)
	go func() { // exits when srv is closed
		defer f.wg.Done()
		_ = srv.Serve(l)
	}()
	return nil
}

// crash stops the server abruptly; clients' connections fail.
func (f *fixture) crash() {
	f.mu.Lock()
	srv := f.srv
	f.srv = nil
	f.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
	f.wg.Wait()
}

func (f *fixture) server() *lock.Server {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.srv
}

// close crashes the server: the lock server's Close is a crash.
func (f *fixture) close() { f.crash() }

// rpcClient returns a redialing rpc client of the fixture's server,
// closed at cleanup.
func (f *fixture) rpcClient(ctx context.Context) *rpc.Client {
	f.tb.Helper()
	rc, err := rpc.Dial(ctx, "lock", rpc.WithDialer(f.net.Dialer("client")))
	require.NoError(f.tb, err)
	f.tb.Cleanup(func() { _ = rc.Close() })
	return rc
}

// client returns a lock client of the fixture's server, closed at cleanup.
func (f *fixture) client(ctx context.Context, opts ...lock.ClientOption) *lock.Client {
	f.tb.Helper()
	c := lock.NewClient(f.rpcClient(ctx), opts...)
	f.tb.Cleanup(func() { _ = c.Close() })
	return c
}

// cutOffClient returns a lock client whose network the returned cutCaller
// can cut, closed at cleanup (after the cut is healed, so that its
// goodbye gets through).
func (f *fixture) cutOffClient(ctx context.Context, opts ...lock.ClientOption) (*lock.Client, *cutCaller) {
	f.tb.Helper()
	cut := &cutCaller{next: f.rpcClient(ctx)}
	c := lock.NewClient(cut, opts...)
	f.tb.Cleanup(func() {
		cut.setCut(false)
		_ = c.Close()
	})
	return c, cut
}

// cutCaller wraps a Caller with a switch that cuts the client off the
// network: while cut, every call is lost, and returns when its ctx ends.
// It also notes when the last renewal got through.
type cutCaller struct {
	next lock.Caller

	mu          sync.Mutex // protects cut, lastRenewal
	cut         bool
	lastRenewal time.Time // when the newest successful KeepAlive returned
}

// renewedAt returns when the client's newest renewal reached the server
// and came back. (In a synctest bubble over net.Pipe, both happen at the
// same virtual instant.)
func (c *cutCaller) renewedAt() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastRenewal
}

func (c *cutCaller) setCut(cut bool) {
	c.mu.Lock()
	c.cut = cut
	c.mu.Unlock()
}

func (c *cutCaller) Call(ctx context.Context, method string, args, reply any) error {
	c.mu.Lock()
	cut := c.cut
	c.mu.Unlock()
	if cut {
		<-ctx.Done()
		return ctx.Err()
	}
	err := c.next.Call(ctx, method, args, reply)
	if err == nil && method == "Lock.KeepAlive" {
		c.mu.Lock()
		c.lastRenewal = time.Now()
		c.mu.Unlock()
	}
	return err
}

// skewedClock is off by offset and runs at rate times the speed of real
// time.
type skewedClock struct {
	base   time.Time
	offset time.Duration
	rate   float64
}

func newSkewedClock(offset time.Duration, rate float64) skewedClock {
	return skewedClock{base: time.Now(), offset: offset, rate: rate}
}

func (c skewedClock) Now() time.Time {
	return c.base.Add(c.offset + time.Duration(float64(time.Since(c.base))*c.rate))
}

func (c skewedClock) real(d time.Duration) time.Duration { return time.Duration(float64(d) / c.rate) }

func (c skewedClock) NewTimer(d time.Duration) *time.Timer { return time.NewTimer(c.real(d)) }

func (c skewedClock) AfterFunc(d time.Duration, f func()) *time.Timer {
	return time.AfterFunc(c.real(d), f)
}
