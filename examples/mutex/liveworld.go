package main

import (
	"context"
	"io"
	"os"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// liveWorld is the live demo's network: the lock service on "server",
// the fenced counter on "store", and the clients c1, c2, ...
//
//	c1 ──rpc──┬──> server (lock.Server: leases, fencing tokens)
//	c2 ──rpc──┤
//	  ...     └──> store  (Store: a counter that checks fencing tokens)
type liveWorld struct {
	net       *netsim.Network
	tr        *demo.Tracer
	dir       string        // the lock server's state directory, removed by close
	ttl       time.Duration // a lease without renewal
	lockDelay time.Duration // a lost lock stays ungranted this long
	store     *Store        // kept across crashes of its node, as on disk
	storeSrvs []*rpc.Server // one per start of the store's node
	locks     *lock.Server  // nil while its node is down
	serving   sync.WaitGroup
	clients   []*liveClient // every client connected, to close
}

// liveTimes returns the lease and lock-delay for clients that stay hold
// inside: a lease shorter than hold, so that a holder cut off from the
// lock service while inside loses its lease before it writes.
func liveTimes(hold time.Duration) (ttl, lockDelay time.Duration) {
	ttl = max(hold*2/5, 100*time.Millisecond)
	return ttl, ttl / 4
}

// newLiveWorld starts the network, the lock service and the store.
func newLiveWorld(cfg config, hold time.Duration, tr *demo.Tracer) (w *liveWorld, err error) {
	w = &liveWorld{tr: tr, store: &Store{}}
	w.ttl, w.lockDelay = liveTimes(hold)
	w.net = netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	if err := w.net.SetDefaultFaults(cfg.faults); err != nil {
		return nil, err
	}
	if w.dir, err = os.MkdirTemp("", "mutex-live-locks-"); err != nil {
		return nil, err
	}
	if err := w.startLocks(); err != nil {
		return nil, err
	}
	return w, w.startStore()
}

// startLocks starts a lock server on the state in w.dir and serves it on
// "server": at the start, and again when the page restarts the node. A
// restarted server issues no token it issued before, and grants nothing
// until every lease of its previous run has run out.
func (w *liveWorld) startLocks() error {
	srv, err := lock.NewServer(lock.Config{Dir: w.dir, TTL: w.ttl, LockDelay: w.lockDelay, RPCOptions: w.tr.ServerOptions("server")})
	if err != nil {
		return err
	}
	l, err := w.net.Listen("server")
	if err != nil {
		srv.Close()
		return err
	}
	w.locks = srv
	w.serving.Go(func() { _ = srv.Serve(l) }) // exits when srv is closed, or its node crashes
	return nil
}

// stopLocks stops the lock server: its sessions and locks, kept in
// memory, are gone, as after a crash; its directory stays.
func (w *liveWorld) stopLocks() {
	if w.locks != nil {
		w.locks.Close()
		w.locks = nil
	}
}

// startStore serves the store on "store", with a new rpc server: at the
// start, and again when the page restarts the node.
func (w *liveWorld) startStore() error {
	srv := rpc.NewServer(append(w.tr.ServerOptions("store"), rpc.WithErrors(lock.ErrStaleToken))...)
	if err := srv.Register(w.store); err != nil {
		return err
	}
	l, err := w.net.Listen("store")
	if err != nil {
		return err
	}
	w.storeSrvs = append(w.storeSrvs, srv)
	w.serving.Go(func() { _ = srv.Serve(l) }) // exits when srv is closed, or its node crashes
	return nil
}

// close closes the clients, the servers and the network, and removes the
// lock server's directory.
func (w *liveWorld) close() {
	for _, c := range w.clients {
		c.close()
	}
	for _, srv := range w.storeSrvs {
		srv.Close()
	}
	w.stopLocks()
	w.serving.Wait()
	w.net.Close()
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
}

// liveClient is a client of the lock service and of the store, on its
// own node.
type liveClient struct {
	name    string
	lockRPC *rpc.Client
	locks   *lock.Client
	mutex   *lock.Mutex // the one lock of the critical section
	store   *rpc.Client
}

// dial connects a client called name to the lock service and the store,
// blocking until connected or ctx ends; the caller closes it.
func (w *liveWorld) dial(ctx context.Context, name string) (*liveClient, error) {
	// The lock client resends its own requests (they are idempotent); the
	// store's calls are resent by rpc, and run at most once.
	lockRPC, err := rpc.Dial(ctx, "server", append(w.tr.ClientOptions(name, "server"), rpc.WithDialer(w.net.Dialer(name)))...)
	if err != nil {
		return nil, err
	}
	store, err := rpc.Dial(ctx, "store", append(w.tr.ClientOptions(name, "store"), rpc.WithDialer(w.net.Dialer(name)),
		rpc.WithRetry(rpc.RetryPolicy{Interval: w.ttl / 4}), rpc.WithErrors(lock.ErrStaleToken))...)
	if err != nil {
		lockRPC.Close()
		return nil, err
	}
	locks := lock.NewClient(lockRPC, lock.WithName(name), lock.WithCallTimeout(w.ttl/4))
	return &liveClient{name: name, lockRPC: lockRPC, locks: locks, mutex: locks.Mutex("the-critical-section"), store: store}, nil
}

// close ends the client's lock session and closes its connections.
// Closing twice does nothing more.
func (c *liveClient) close() {
	c.locks.Close()
	c.lockRPC.Close()
	c.store.Close()
}

// crash stops the client as a power cut does: its connection goes first,
// so that the lock client cannot end its session; the lock service sees
// the renewals stop, and takes the lock back when the lease runs out.
func (c *liveClient) crash() {
	c.lockRPC.Close()
	c.close()
}

// lockedWriter serializes the lines the clients narrate at once.
type lockedWriter struct {
	mu sync.Mutex // protects w
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
