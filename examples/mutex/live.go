package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Defaults of the live demo, for the flags not given.
const (
	liveNodes = 3           // clients, unless -nodes says
	liveHold  = time.Second // time inside, unless -hold says: long enough to click
)

// runLive runs the lock service for a lecture, under the dashboard of
// -dashboard: every round each client takes the lock, reads a counter on
// the store with its fencing token, works inside for -hold, and writes the
// counter back plus one, until Ctrl-C, while the instructor crashes nodes
// and cuts links on the page. Cut a holder off from the server while it is
// inside: its lease expires, the next client is granted the lock, and the
// store refuses the old holder's late write. The counter always equals the
// writes the store accepted: no increment is lost.
//
// The live demo runs the lock service only: Ricart-Agrawala and the ring
// wait for ever for a crashed peer, which makes a short lesson and a dull
// page.
func runLive(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the rpc calls carry stamps: the page names them
	n, hold := liveNodes, liveHold
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "nodes":
			n = cfg.nodes[0] // the smallest: run sorts them
		case "hold":
			hold = cfg.hold
		}
	})
	w, err := newLiveWorld(cfg, hold, tr)
	if err != nil {
		return err
	}
	defer w.close()
	clients := make([]*liveClient, n) // nil while a client's node is down
	names := make([]string, n)
	for i := range clients {
		names[i] = fmt.Sprintf("c%d", i+1)
		if clients[i], err = w.dial(ctx, names[i]); err != nil {
			return err
		}
		w.clients = append(w.clients, clients[i])
	}
	dash, err := demo.StartDashboard(fs, w.net, stdout,
		dashboard.WithTitle("mutex: a lock service with leases and fencing tokens"),
		dashboard.WithNodes(append(slices.Clone(names), "server", "store")...))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := &lockedWriter{w: dash.Out()}
	fmt.Fprintf(out, "%d clients take turns on a counter on \"store\", with the lock service \"server\" (leases of %v).\n", n, w.ttl)
	fmt.Fprintf(out, "Each round every client takes the lock, reads the counter with its fencing token, works inside for %v,\n", hold)
	fmt.Fprintln(out, "and writes the counter back plus one. Cut a client off from the server while it is inside: its lease")
	fmt.Fprintln(out, "expires, the next client gets the lock, and the store refuses the old holder's late write.")

	// A client may wait for every other client to hold the lock once, and
	// for the lease of one that was cut off to run out.
	lockWait := time.Duration(n)*(hold+w.ttl) + w.ttl + w.lockDelay
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		var wg sync.WaitGroup
		for i, name := range names {
			if !dash.Up(name) {
				fmt.Fprintf(out, "   %s is down, and does not ask for the lock.\n", name)
				continue
			}
			wg.Go(func() { // exits when the entry is done, or has failed
				if clients[i] == nil {
					dctx, cancel := context.WithTimeout(ctx, lockWait)
					defer cancel()
					c, err := w.dial(dctx, name)
					if err != nil {
						fmt.Fprintf(out, "   %s restarted, and cannot reach the servers: %v.\n", name, err)
						return
					}
					clients[i] = c
				}
				clients[i].enter(ctx, lockWait, hold, out)
			})
		}
		wg.Wait()
		for _, c := range clients {
			if c != nil && !slices.Contains(w.clients, c) {
				w.clients = append(w.clients, c) // connected again this round: w closes it
			}
		}
		v := w.store.view()
		lost := "no increment lost"
		if v.counter != v.accepted {
			lost = fmt.Sprintf("%d INCREMENTS LOST", v.accepted-v.counter)
		}
		fmt.Fprintf(out, "   The store: counter = %d after %d writes accepted (%s); %d accesses refused; newest token %d.\n",
			v.counter, v.accepted, lost, v.refused, v.newest)
		return nil
	}
	react := func(e netsim.Event) error {
		err := reactLive(w, names, clients, e, out)
		if errors.Is(err, netsim.ErrCrashed) {
			return nil // crashed again already: its restart will start it
		}
		return err
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// enter is one visit of the critical section, narrated: take the lock,
// read the counter, work for hold, write it back plus one, release.
func (c *liveClient) enter(ctx context.Context, lockWait, hold time.Duration, out io.Writer) {
	lctx, cancel := context.WithTimeout(ctx, lockWait)
	lease, err := c.mutex.Lock(lctx)
	cancel()
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		fmt.Fprintf(out, "   %s gets no lock in %v: the lock service does not answer, or the lock is not released.\n", c.name, lockWait)
		return
	case err != nil:
		fmt.Fprintf(out, "   %s gets no lock: %v.\n", c.name, err)
		return
	}
	defer func() {
		uctx, cancel := context.WithTimeout(ctx, lockWait)
		defer cancel()
		_ = c.mutex.Unlock(uctx) // fails if the lease is gone: nothing to release
	}()
	var read StoreReply
	if err := c.store.Call(ctx, "Store.Read", &StoreArgs{Token: lease.Token()}, &read); err != nil {
		fmt.Fprintf(out, "   %s is granted token %d, and cannot read the counter: %v.\n", c.name, lease.Token(), err)
		return
	}
	fmt.Fprintf(out, "   %s is granted token %d, reads counter = %d, and works inside for %v.\n", c.name, lease.Token(), read.Value, hold)
	work := time.NewTimer(hold)
	select {
	case <-ctx.Done():
		work.Stop()
		return
	case <-work.C: // the work inside (a simulation, not a wait for anything)
	}
	// The client writes whether or not its lease still holds: a process
	// that was paused or cut off cannot know that it has lost it, and the
	// check could come just before the pause anyway. The token protects.
	ended := ""
	if err := lease.Err(); err != nil {
		ended = fmt.Sprintf(" (its lease ended while it was inside: %v)", err)
	}
	wctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	err = c.store.Call(wctx, "Store.Write", &StoreArgs{Token: lease.Token(), Value: read.Value + 1}, nil)
	switch {
	case errors.Is(err, lock.ErrStaleToken):
		fmt.Fprintf(out, "   %s writes counter = %d with token %d: REFUSED, a newer holder has been at the store%s.\n", c.name, read.Value+1, lease.Token(), ended)
	case err != nil:
		fmt.Fprintf(out, "   %s writes counter = %d with token %d: FAILED: %v%s.\n", c.name, read.Value+1, lease.Token(), err, ended)
	default:
		fmt.Fprintf(out, "   %s writes counter = %d with token %d: accepted%s.\n", c.name, read.Value+1, lease.Token(), ended)
	}
}

// reactLive does what a crash or a restart on the page means: a crashed
// client loses its connections and its lock session (it connects again
// when restarted); the lock server loses its memory, and a new one starts
// from its directory; the store keeps its counter, as on disk, and serves
// again.
func reactLive(w *liveWorld, names []string, clients []*liveClient, e netsim.Event, out io.Writer) error {
	i := slices.Index(names, e.Node)
	switch {
	case e.Kind == netsim.EventCrash && i >= 0 && clients[i] != nil:
		clients[i].crash()
		clients[i] = nil
	case e.Kind == netsim.EventCrash && e.Node == "server":
		w.stopLocks()
		fmt.Fprintln(out, "The lock server's sessions and locks were in its memory: gone. Its token high-water mark is on disk.")
	case e.Kind == netsim.EventRestart && e.Node == "server":
		w.stopLocks() // in case its crash was not seen
		fmt.Fprintf(out, "A new lock server starts from its directory: it grants nothing for %v, until every old lease has run out,\n", w.ttl+w.lockDelay)
		fmt.Fprintln(out, "and its tokens start above every token it issued before.")
		return w.startLocks()
	case e.Kind == netsim.EventRestart && e.Node == "store":
		fmt.Fprintln(out, "The store serves again, with the counter it had (as on disk).")
		return w.startStore()
	}
	return nil
}
