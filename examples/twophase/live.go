package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// live runs the banks and the coordinator for a lecture, under the
// dashboard of -dashboard: every round the coordinator first finishes
// what its log shows unfinished, then moves 10 between alice and bob (one
// way, then back), until Ctrl-C, while the instructor crashes and cuts
// nodes on the page. Crash the coordinator in the middle of a transfer:
// the banks hold their locks, and a deposit waits, until it restarts and
// recovers from its log. The coordinator waits -decide between the votes
// and its decision, the moment to crash it.
func live(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the rpc calls carry stamps: the page names them
	s, err := startSystem(ctx, cfg, tr, stdout)
	defer s.close()
	if err != nil {
		return err
	}
	dash, err := demo.StartDashboard(fs, s.net, stdout,
		dashboard.WithTitle("twophase: two-phase commit, a crash and a recovery"),
		dashboard.WithNodes("bank-a", "coord", "bank-b"))
	if err != nil {
		return err
	}
	defer dash.Close()
	s.out, s.coord.out = dash.Out(), dash.Out()
	out := s.out
	// crashed tells votesIn that the page crashed the coordinator. Size
	// 1: one crash is news enough, and the observer never waits.
	crashed := make(chan struct{}, 1)
	stop := s.net.Observe(func(e netsim.Event) {
		if e.Kind == netsim.EventCrash && e.Node == "coord" {
			select {
			case crashed <- struct{}{}:
			default:
			}
		}
	})
	defer stop()
	votesIn := func(ctx context.Context, tx string) bool {
		select {
		case <-crashed: // an old crash, before this transaction
		default:
		}
		fmt.Fprintf(out, "   The votes are in; the coordinator decides in %v. Crash coord now: the banks hold their locks.\n", cfg.decide)
		t := time.NewTimer(cfg.decide)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-crashed:
		case <-t.C:
		}
		return dash.Up("coord")
	}
	s.coord.votesIn = votesIn
	fmt.Fprintf(out, "bank-a holds alice's account, bank-b holds bob's: %s. Each round the coordinator moves 10\n", s.balances())
	fmt.Fprintln(out, "between them with two-phase commit. Crash coord on the page while the banks hold their locks: they wait.")

	all := []string{"bank-a", "bank-b"}
	round := func(ctx context.Context, r int) error {
		tx := fmt.Sprintf("T%d", r)
		from, to := "alice", "bob"
		if r%2 == 0 {
			from, to = to, from
		}
		if s.coord == nil {
			fmt.Fprintf(out, "Round %d: the coordinator is down: no transfer starts.\n", r)
			return s.blocked(ctx)
		}
		rs, err := readLog(s.logPath())
		if err != nil {
			return err
		}
		participants := map[string][]string{}
		for _, rec := range rs {
			participants[rec.tx] = all
		}
		fmt.Fprintf(out, "Round %d: %s moves 10 from %s to %s.\n", r, tx, from, to)
		if err := s.coord.recover(ctx, rs, participants); err != nil {
			return err
		}
		steps := []step{{"bank-a", Op{"alice", -10}}, {"bank-b", Op{"bob", 10}}}
		if from == "bob" {
			steps = []step{{"bank-a", Op{"alice", 10}}, {"bank-b", Op{"bob", -10}}}
		}
		d, err := s.coord.run(ctx, tx, steps, noCrash)
		if err != nil {
			return err
		}
		if d.crashed {
			fmt.Fprintln(out, "   *** the coordinator is down, and has logged no decision ***")
			return s.blocked(ctx)
		}
		fmt.Fprintf(out, "   %s: %d in all.\n", s.balances(), s.total())
		return nil
	}
	// The coordinator's memory dies with its node, and a new one starts
	// from its log when the node restarts. A bank keeps its balances, its
	// locks and its votes, as on disk.
	react := func(e netsim.Event) error {
		switch {
		case e.Kind == netsim.EventCrash && e.Node == "coord":
			s.stopCoordinator()
		case e.Kind == netsim.EventRestart && e.Node == "coord":
			fmt.Fprintln(out, "The coordinator starts with nothing but its log: next round it finishes what the log left unfinished.")
			if err := s.startCoordinator(ctx); err != nil {
				return err
			}
			s.coord.votesIn = votesIn
		case e.Kind == netsim.EventRestart && s.banks[e.Node] != nil:
			stop, err := s.serve(e.Node, s.banks[e.Node])
			if err != nil {
				return err
			}
			s.stops = append(s.stops, stop)
		}
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// blocked says what the banks can do while the coordinator is down: a
// bank that voted YES holds its lock, asks the coordinator in vain, and a
// deposit into the locked account waits.
func (s *system) blocked(ctx context.Context) error {
	held := false
	for _, b := range []string{"bank-a", "bank-b"} {
		locks := s.banks[b].state().locks
		for _, acct := range slices.Sorted(maps.Keys(locks)) {
			tx := locks[acct]
			held = true
			answer := s.ask(ctx, b, tx)
			if answer == "" {
				answer = fmt.Sprintf("no answer within %v", s.timeout)
			}
			fmt.Fprintf(s.out, "   %s holds %s's lock for %s, which it voted YES on; it asks the coordinator: %s.\n", b, acct, tx, answer)
		}
	}
	if !held {
		fmt.Fprintln(s.out, "   No bank holds a lock: each could decide alone. Crash the coordinator during a transfer to see it block.")
		return nil
	}
	s.deposit(ctx, 5, s.timeout) // its failure is narrated: the lock is held
	return nil
}
