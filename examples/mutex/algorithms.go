package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/lock/peer"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// group is N nodes running one algorithm on a simulated network.
type group struct {
	names   []string // the nodes' names: their addresses on the network, and their lines in a trace
	nodes   []locker // what each node locks with, in the order of names
	servers []string // nodes that serve but never lock: the lock server
	// own returns the algorithm's own count of the messages it sent, and
	// where that count comes from, to compare with what the network saw.
	own     func() (int64, string)
	closers []func() error // run in reverse order by close
}

// close stops everything the group started.
func (g *group) close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		_ = g.closers[i]()
	}
}

// env is what every algorithm is started with.
type env struct {
	net   *netsim.Network
	n     int
	cfg   config
	tr    *demo.Tracer
	lossy bool // the network loses or duplicates messages
	retry bool // the peers' rpc calls are retried (lossy, and not -noretry)
}

// dialer returns the dialer of node name, traced when -trace is on.
func (e env) dialer(name string) transport.Dialer {
	d := e.net.Dialer(name)
	if e.tr.On() {
		return e.tr.Recorder().Node(name).WrapDialer(d)
	}
	return d
}

// listen starts node name's listener, traced when -trace is on.
func (e env) listen(name string) (transport.Listener, error) {
	l, err := e.net.Listen(name)
	if err != nil {
		return nil, err
	}
	return e.tr.WrapListener(name, l), nil
}

// retryAfter is how long a call waits for its reply before it is sent
// again: a little more than a round trip (which on the simulator is the
// faults' delays), so that retries answer losses rather than slowness.
func (e env) retryAfter() time.Duration {
	f := e.cfg.faults
	d := 10*time.Millisecond + 2*(f.Delay+f.Jitter)
	if f.Reorder > 0 {
		d += 2 * transport.DefaultReorderDelay
	}
	return d
}

// rpcOptions are the peers' rpc options: resend until answered, run at
// most once, when the network may lose or duplicate. The wait between
// resends grows only to 4 × retryAfter: a deferred reply is a call that
// legitimately takes long, and a longer back-off would make each loss of
// its reply cost more.
func (e env) rpcOptions() []rpc.DialOption {
	if !e.retry {
		return nil
	}
	d := e.retryAfter()
	return []rpc.DialOption{rpc.WithRetry(rpc.RetryPolicy{Interval: d, MaxInterval: 4 * d})}
}

func names(prefix string, n int) []string {
	var ns []string
	for i := range n {
		ns = append(ns, fmt.Sprintf("%s%d", prefix, i))
	}
	return ns
}

// startRicartAgrawala starts N peers that ask each other (lock/peer).
func startRicartAgrawala(_ context.Context, e env) (*group, error) {
	g := &group{names: names("p", e.n)}
	var peers []*peer.Peer
	for _, name := range g.names {
		others := map[string]string{}
		for _, o := range g.names {
			if o != name {
				others[o] = o // on netsim, a node's name is its address
			}
		}
		l, err := e.listen(name)
		if err != nil {
			g.close()
			return nil, err
		}
		p, err := peer.New(peer.Config{ID: name, Peers: others, Dialer: e.dialer(name), RPCClientOptions: e.rpcOptions()}, l)
		if err != nil {
			l.Close()
			g.close()
			return nil, err
		}
		g.closers = append(g.closers, p.Close)
		g.nodes = append(g.nodes, p)
		peers = append(peers, p)
	}
	g.own = func() (int64, string) {
		var m uint64
		for _, p := range peers {
			m += p.Stats().Messages()
		}
		return int64(m), "requests + replies"
	}
	return g, nil
}

// startRing starts N members of a token ring (lock/peer).
func startRing(_ context.Context, e env) (*group, error) {
	g := &group{names: names("r", e.n)}
	var ring []*peer.Ring
	for i, name := range g.names {
		l, err := e.listen(name)
		if err != nil {
			g.close()
			return nil, err
		}
		r, err := peer.NewRing(peer.RingConfig{
			ID: name, Next: g.names[(i+1)%e.n], First: i == 0,
			Dialer: e.dialer(name), RPCClientOptions: e.rpcOptions(),
		}, l)
		if err != nil {
			l.Close()
			g.close()
			return nil, err
		}
		g.closers = append(g.closers, r.Close)
		g.nodes = append(g.nodes, r)
		ring = append(ring, r)
	}
	g.own = func() (int64, string) {
		var passes uint64
		for _, r := range ring {
			passes += r.Stats().Passes
		}
		return 2 * int64(passes), fmt.Sprintf("2 × %d token passes", passes)
	}
	return g, nil
}

// startService starts a lock server and N clients of it (package lock),
// all wanting the same lock.
func startService(ctx context.Context, e env) (*group, error) {
	dir, err := os.MkdirTemp("", "mutex-lock-server-")
	if err != nil {
		return nil, err
	}
	g := &group{closers: []func() error{func() error { return os.RemoveAll(dir) }}}
	srv, err := lock.NewServer(lock.Config{Dir: dir})
	if err != nil {
		g.close()
		return nil, err
	}
	l, err := e.listen("server")
	if err != nil {
		srv.Close()
		g.close()
		return nil, err
	}
	var serving sync.WaitGroup
	serving.Add(1)
	go func() { // exits when srv is closed
		defer serving.Done()
		_ = srv.Serve(l)
	}()
	g.closers = append(g.closers, func() error { err := srv.Close(); serving.Wait(); return err })

	// The lock client always resends its requests (they are idempotent),
	// after its call timeout, which -noretry does not change; on a lossy
	// network a shorter one keeps each loss from costing a second.
	var opts []lock.ClientOption
	if e.lossy {
		opts = append(opts, lock.WithCallTimeout(4*e.retryAfter()))
	}
	var rpcs []*rpc.Client
	for _, name := range names("c", e.n) {
		rc, err := rpc.Dial(ctx, "server", rpc.WithDialer(e.dialer(name)))
		if err != nil {
			g.close()
			return nil, err
		}
		c := lock.NewClient(rc, append(opts, lock.WithName(name))...)
		g.closers = append(g.closers, rc.Close, c.Close) // c first: it ends its session over rc
		g.names = append(g.names, name)
		g.nodes = append(g.nodes, serviceNode{c.Mutex("the-critical-section")})
		rpcs = append(rpcs, rc)
	}
	g.servers = []string{"server"}
	g.own = func() (int64, string) {
		var calls int64
		for _, rc := range rpcs {
			calls += rc.Stats().Calls
		}
		return 2 * calls, fmt.Sprintf("2 × %d rpc calls", calls)
	}
	return g, nil
}

// serviceNode adapts a lock.Mutex to locker: the lease is kept by the
// Mutex, so Lock can drop it.
type serviceNode struct{ m *lock.Mutex }

func (s serviceNode) Lock(ctx context.Context) error {
	_, err := s.m.Lock(ctx)
	return err
}

func (s serviceNode) Unlock(ctx context.Context) error { return s.m.Unlock(ctx) }

// startNoLock starts N nodes that take no lock at all (-nolock).
func startNoLock(_ context.Context, e env) (*group, error) {
	g := &group{names: names("x", e.n), own: func() (int64, string) { return 0, "no messages" }}
	for range e.n {
		g.nodes = append(g.nodes, noLock{})
	}
	return g, nil
}
