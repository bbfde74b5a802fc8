package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// world is the simulated network with its two servers: "bank", the account
// store, and "locks", the lock service.
//
//	teller-1 ──rpc──┬──> bank  (Bank: Read, Write; checks fencing tokens)
//	teller-2 ──rpc──┤
//	   ...          └──> locks (lock.Server: leases, fencing tokens)
type world struct {
	net      *netsim.Network
	tr       *demo.Tracer
	times    timing
	bank     *Bank
	bankSrvs []*rpc.Server // the bank's servers: one per start of its node
	locks    *lock.Server  // nil while its node is down (live mode)
	dir      string        // the lock server's state directory, removed by close
	serving  sync.WaitGroup
	tellers  []*teller // to close

	tellerCount int // tellers that may wait for the lock at once
}

// timing holds the demo's durations, scaled to the network's delays so
// that a slow network does not cost leases that a fast one keeps.
type timing struct {
	call      time.Duration // wait for a reply before resending
	ttl       time.Duration // a lock lease without renewal
	lockDelay time.Duration // a lost lock stays ungranted this long
	giveUp    time.Duration // a teller gives up on a call after this long, resends included
}

// timingFor returns the timing for a network with faults f; giveUp, if
// not 0, is how long a teller tries a call (-timeout).
func timingFor(f transport.Faults, giveUp time.Duration) timing {
	held := f.Delay + f.Jitter // the longest a message takes
	if f.Reorder > 0 {
		held += transport.DefaultReorderDelay
	}
	call := 10*time.Millisecond + 4*held // two round trips
	// A lease outlives several failed renewals (each waits for its call,
	// then ttl/10), so a lossy network rarely costs one.
	if giveUp == 0 {
		giveUp = max(2*time.Second, 40*call)
	}
	return timing{call: call, ttl: 250*time.Millisecond + 10*call, lockDelay: 50*time.Millisecond + 2*call, giveUp: giveUp}
}

// newWorld starts the network and both servers.
func newWorld(cfg config, tr *demo.Tracer) (w *world, err error) {
	w = &world{tr: tr, times: timingFor(cfg.faults, cfg.timeout), bank: newBank(), tellerCount: cfg.workers + 2}
	w.net = netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	if err := w.net.SetDefaultFaults(cfg.faults); err != nil {
		return nil, err
	}
	if err := w.startBank(); err != nil {
		return nil, err
	}
	if w.dir, err = os.MkdirTemp("", "bank-locks-"); err != nil {
		return nil, err
	}
	return w, w.startLocks()
}

// startBank serves the bank on its node, with a new rpc server: at the
// start, and again when the dashboard restarts the node. The balances are
// kept in between, as on disk.
func (w *world) startBank() error {
	srv := rpc.NewServer(append(w.tr.ServerOptions("bank"), rpc.WithErrors(lock.ErrStaleToken))...)
	if err := srv.Register(w.bank); err != nil {
		return err
	}
	l, err := w.net.Listen("bank")
	if err != nil {
		return err
	}
	w.bankSrvs = append(w.bankSrvs, srv)
	w.serving.Go(func() { _ = srv.Serve(l) }) // exits when srv is closed, or its node crashes
	return nil
}

// startLocks starts a lock server on the state in w.dir and serves it on
// its node: at the start, and again when the dashboard restarts the node.
// A restarted server issues no token it issued before, and grants nothing
// until every lease of its previous run has run out.
func (w *world) startLocks() error {
	srv, err := lock.NewServer(lock.Config{
		Dir: w.dir, TTL: w.times.ttl, LockDelay: w.times.lockDelay,
		RPCOptions: w.tr.ServerOptions("locks"),
	})
	if err != nil {
		return err
	}
	l, err := w.net.Listen("locks")
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
func (w *world) stopLocks() {
	if w.locks != nil {
		w.locks.Close()
		w.locks = nil
	}
}

// close closes the tellers, the servers and the network, and removes the
// lock server's directory.
func (w *world) close() {
	for _, t := range w.tellers {
		t.close()
	}
	for _, srv := range w.bankSrvs {
		srv.Close()
	}
	w.stopLocks()
	w.serving.Wait()
	w.net.Close()
	if w.dir != "" {
		os.RemoveAll(w.dir)
	}
}

// teller is a client of the bank and of the lock service, on its own node.
type teller struct {
	name     string
	bank     *rpc.Client
	lockRPC  *rpc.Client
	locks    *lock.Client
	mutex    *lock.Mutex   // the bank's one lock
	timeout  time.Duration // a call is given up after this long, resends included
	lockWait time.Duration // a Lock is given up after this long
}

// newTeller connects a teller called name to both servers; w closes it.
func (w *world) newTeller(ctx context.Context, name string) (*teller, error) {
	t, err := w.dialTeller(ctx, name)
	if err != nil {
		return nil, err
	}
	w.tellers = append(w.tellers, t)
	return t, nil
}

// dialTeller connects a teller called name to both servers; the caller
// closes it. It blocks until connected, or ctx ends.
func (w *world) dialTeller(ctx context.Context, name string) (*teller, error) {
	retry := rpc.WithRetry(rpc.RetryPolicy{Interval: w.times.call, MaxInterval: 2 * w.times.call})
	bank, err := rpc.Dial(ctx, "bank", append(w.tr.ClientOptions(name, "bank"),
		rpc.WithDialer(w.net.Dialer(name)), retry, rpc.WithErrors(lock.ErrStaleToken))...)
	if err != nil {
		return nil, err
	}
	// The lock client retries its own requests (they are idempotent).
	lockRPC, err := rpc.Dial(ctx, "locks", append(w.tr.ClientOptions(name, "locks"), rpc.WithDialer(w.net.Dialer(name)))...)
	if err != nil {
		bank.Close()
		return nil, err
	}
	locks := lock.NewClient(lockRPC, lock.WithName(name), lock.WithCallTimeout(w.times.call))
	return &teller{
		name: name, bank: bank, lockRPC: lockRPC, locks: locks, mutex: locks.Mutex("bank"),
		timeout: w.times.giveUp, lockWait: w.times.giveUp + lockWait(w.times.call, w.tellerCount),
	}, nil
}

// close ends the teller's lock session and closes its connections.
// Closing twice does nothing more.
func (t *teller) close() {
	t.locks.Close()
	t.lockRPC.Close()
	t.bank.Close()
}

// crash stops the teller as a power cut does: its lock session is not
// ended (the connection goes first, so the lock client cannot say
// goodbye); the lock service sees its renewals stop, and takes its lock
// back when the lease runs out.
func (t *teller) crash() {
	t.lockRPC.Close()
	t.close()
}

// lock takes the bank's lock, waiting at most t.lockWait; then it
// returns errGaveUp.
func (t *teller) lock(ctx context.Context) (*lock.Lease, error) {
	lctx, cancel := context.WithTimeout(ctx, t.lockWait)
	defer cancel()
	lease, err := t.mutex.Lock(lctx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, fmt.Errorf("%s %w on the lock after %v: no answer", t.name, errGaveUp, t.lockWait)
	}
	return lease, err
}

// errNotHeld is what Unlock says of a lease that is already over.
var errNotHeld = lock.ErrNotHeld

// describe says what the world is, for the narration.
func (w *world) describe(f transport.Faults) string {
	return fmt.Sprintf("on a simulated network (seed %d; %v)", w.net.Seed(), f)
}
