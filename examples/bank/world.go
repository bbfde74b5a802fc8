package main

import (
	"context"
	"errors"
	"fmt"
	"os"
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
	net     *netsim.Network
	tr      *demo.Tracer
	times   timing
	bank    *Bank
	bankSrv *rpc.Server
	locks   *lock.Server
	dir     string     // the lock server's state directory, removed by close
	served  chan error // the result of each server's Serve, when it stops
	running int        // Serve goroutines started
	tellers []*teller  // to close

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

func timingFor(f transport.Faults) timing {
	held := f.Delay + f.Jitter // the longest a message takes
	if f.Reorder > 0 {
		held += transport.DefaultReorderDelay
	}
	call := 10*time.Millisecond + 4*held // two round trips
	// A lease outlives several failed renewals (each waits for its call,
	// then ttl/10), so a lossy network rarely costs one.
	return timing{call: call, ttl: 250*time.Millisecond + 10*call, lockDelay: 50*time.Millisecond + 2*call, giveUp: max(2*time.Second, 40*call)}
}

// newWorld starts the network and both servers.
func newWorld(cfg config, tr *demo.Tracer) (w *world, err error) {
	w = &world{tr: tr, times: timingFor(cfg.faults), bank: newBank(), served: make(chan error, 2), tellerCount: cfg.workers + 2}
	w.net = netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	if err := w.net.SetDefaultFaults(cfg.faults); err != nil {
		return nil, err
	}

	w.bankSrv = rpc.NewServer(append(tr.ServerOptions("bank"), rpc.WithErrors(lock.ErrStaleToken))...)
	if err := w.bankSrv.Register(w.bank); err != nil {
		return nil, err
	}
	bankL, err := w.net.Listen("bank")
	if err != nil {
		return nil, err
	}
	w.running++
	go func() { w.served <- w.bankSrv.Serve(bankL) }() // exits when bankSrv is closed

	if w.dir, err = os.MkdirTemp("", "bank-locks-"); err != nil {
		return nil, err
	}
	w.locks, err = lock.NewServer(lock.Config{
		Dir: w.dir, TTL: w.times.ttl, LockDelay: w.times.lockDelay,
		RPCOptions: tr.ServerOptions("locks"),
	})
	if err != nil {
		return nil, err
	}
	locksL, err := w.net.Listen("locks")
	if err != nil {
		return nil, err
	}
	w.running++
	go func() { w.served <- w.locks.Serve(locksL) }() // exits when locks is closed
	return w, nil
}

// close closes the tellers, the servers and the network, and removes the
// lock server's directory.
func (w *world) close() {
	for _, t := range w.tellers {
		t.close()
	}
	if w.bankSrv != nil {
		w.bankSrv.Close()
	}
	if w.locks != nil {
		w.locks.Close()
	}
	for range w.running {
		<-w.served
	}
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

// newTeller connects a teller called name to both servers.
func (w *world) newTeller(ctx context.Context, name string) (*teller, error) {
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
	t := &teller{
		name: name, bank: bank, lockRPC: lockRPC, locks: locks, mutex: locks.Mutex("bank"),
		timeout: w.times.giveUp, lockWait: w.times.giveUp + lockWait(w.times.call, w.tellerCount),
	}
	w.tellers = append(w.tellers, t)
	return t, nil
}

// close ends the teller's lock session and closes its connections.
func (t *teller) close() {
	t.locks.Close()
	t.lockRPC.Close()
	t.bank.Close()
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
