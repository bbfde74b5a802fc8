package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
)

// outcome is what the run showed, for the tests; the narration is made
// from the same values.
type outcome struct {
	decisions   []string // of T1, T2, T3 (T3's as recovery finished it)
	lockedAfter []string // part 3: the accounts still locked after the crash
	asked       string   // part 3: the coordinator's answer to bank-a, "" for none
	deposit     error    // part 3: the deposit into alice's account during the crash
	deposited   bool     // the deposit went through, then or after the recovery
	total       int      // alice's and bob's balances at the end
	inDoubt     bool     // a transaction was left unfinished at a bank that never heard the outcome
	hopeless    bool     // no bank could be reached: the run stopped
}

// show runs the demo, narrating on out.
func show(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (outcome, error) {
	var o outcome
	s, err := startSystem(ctx, cfg, tr, out)
	defer s.close()
	if err != nil {
		return o, err
	}
	fmt.Fprintf(out, "twophase: a coordinator and two banks on a simulated network (seed %d); %v.\n", cfg.faults.Seed, cfg.faults)
	fmt.Fprintf(out, "bank-a holds alice's account, bank-b holds bob's: %s. The coordinator waits %v for a bank.\n", s.balances(), cfg.timeout)

	transfer := func(tx string, amount int) []step {
		return []step{{"bank-a", Op{"alice", -amount}}, {"bank-b", Op{"bob", amount}}}
	}
	fmt.Fprintln(out, "\n1. T1 moves 30 from alice to bob.")
	d, err := s.coord.run(ctx, "T1", transfer("T1", 30), noCrash)
	if err != nil {
		return o, err
	}
	o.decisions = append(o.decisions, d.decision)
	if d.votes == 0 {
		o.hopeless = true
		fmt.Fprintln(out, "No bank answered the coordinator at all: the network is losing everything. Stopping.")
		return o, nil
	}
	fmt.Fprintf(out, "   %s\n", s.balances())

	fmt.Fprintln(out, "\n2. T2 moves 500 from alice to bob.")
	if d, err = s.coord.run(ctx, "T2", transfer("T2", 500), noCrash); err != nil {
		return o, err
	}
	o.decisions = append(o.decisions, d.decision)
	fmt.Fprintf(out, "   %s\n", s.balances())

	if err := crashAndRecover(ctx, s, cfg.crash, transfer("T3", 20), &o); err != nil {
		return o, err
	}
	o.total = s.total()
	if inDoubt := append(s.locked("T2"), s.locked("T3")...); len(inDoubt) > 0 {
		o.inDoubt = true
		fmt.Fprintf(out, "\n%s: %d in all; a transaction is still unfinished (%s), so the money is in doubt.\n",
			s.balances(), o.total, strings.Join(inDoubt, ", "))
		return o, nil
	}
	fmt.Fprintf(out, "\n%s: %d in all, %s.\n", s.balances(), o.total, conserved(o.total, 150, o.deposited))
	return o, nil
}

// crashAndRecover is parts 3 and 4: T3, a crash of the coordinator where
// crash says, what the banks can and cannot do meanwhile, and recovery.
func crashAndRecover(ctx context.Context, s *system, crash crashPoint, t3 []step, o *outcome) error {
	out := s.out
	switch crash {
	case afterDecision:
		fmt.Fprintln(out, "\n3. T3 moves 20 from alice to bob. The coordinator crashes after logging its decision,")
		fmt.Fprintln(out, "   before sending it (-crash decision).")
	case afterPrepare:
		fmt.Fprintln(out, "\n3. T3 moves 20 from alice to bob. The coordinator crashes once the votes are in, before")
		fmt.Fprintln(out, "   logging a decision (-crash prepare).")
	default:
		fmt.Fprintln(out, "\n3. T3 moves 20 from alice to bob, and nothing crashes (-crash none).")
	}
	d, err := s.coord.run(ctx, "T3", t3, crash)
	if err != nil {
		return err
	}
	if !d.crashed {
		o.decisions = append(o.decisions, d.decision)
		fmt.Fprintf(out, "   %s\n", s.balances())
		fmt.Fprintln(out, "   Try -crash decision or -crash prepare: the coordinator dies mid-protocol.")
		return nil
	}
	s.crashCoordinator()
	fmt.Fprintln(out, "   *** the coordinator crashes ***")
	o.lockedAfter = s.locked("T3")
	if len(o.lockedAfter) == 0 {
		fmt.Fprintln(out, "   No bank holds a lock for T3: none voted YES, so each could abort on its own.")
	} else {
		fmt.Fprintf(out, "   T3 holds %s: the banks voted YES and wait for the outcome.\n", strings.Join(o.lockedAfter, " and "))
	}

	o.asked = s.ask(ctx, "bank-a", "T3")
	switch {
	case o.asked != "":
		fmt.Fprintf(out, "   bank-a asks the coordinator what became of T3: %s.\n", o.asked)
	case len(o.lockedAfter) > 0:
		fmt.Fprintf(out, "   bank-a asks the coordinator what became of T3: no answer within %v.\n", s.timeout)
		fmt.Fprintln(out, "   It may not abort: it voted YES. It may not commit: for all it knows, bank-b voted NO.")
		fmt.Fprintln(out, "   So it waits, holding alice's lock: two-phase commit BLOCKS while its coordinator is down.")
	default:
		fmt.Fprintf(out, "   bank-a asks the coordinator what became of T3: no answer within %v.\n", s.timeout)
	}
	o.deposit = s.deposit(ctx, 5, 2*s.timeout)
	o.deposited = o.deposit == nil

	fmt.Fprintln(out, "\n4. The coordinator restarts, with nothing but its log.")
	if err := s.restartCoordinator(ctx); err != nil {
		return err
	}
	rs, err := readLog(s.logPath())
	if err != nil {
		return err
	}
	if err := s.coord.recover(ctx, rs, map[string][]string{"T3": banksOf(t3)}); err != nil {
		return err
	}
	o.decisions = append(o.decisions, s.coord.outcomeOf("T3"))
	if answer := s.ask(ctx, "bank-a", "T3"); answer != "" {
		fmt.Fprintf(out, "   bank-a asks again: %s.\n", answer)
	}
	if locked := s.locked("T3"); len(locked) > 0 {
		fmt.Fprintf(out, "   T3 still holds %s: a bank has not heard the outcome yet.\n", strings.Join(locked, " and "))
	}
	if !o.deposited {
		o.deposited = s.deposit(ctx, 5, 2*s.timeout) == nil
	}
	return nil
}

// deposit has a client of bank-a deposit amount into alice's account,
// waiting at most wait for the lock, and says what happened.
func (s *system) deposit(ctx context.Context, amount int, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	var balance int
	err := s.banks["bank-a"].Deposit(ctx, &Op{"alice", amount}, &balance)
	switch {
	case errors.Is(err, errLocked):
		fmt.Fprintf(s.out, "   A deposit of %d into alice's account waits for her lock: still locked after %v.\n", amount, wait)
	case err != nil:
		fmt.Fprintf(s.out, "   A deposit of %d into alice's account fails: %v\n", amount, err)
	default:
		fmt.Fprintf(s.out, "   A deposit of %d into alice's account goes through: she has %d.\n", amount, balance)
	}
	return err
}

// conserved says whether the money adds up: start, plus the deposit if
// it went through.
func conserved(total, start int, deposited bool) string {
	want := start
	if deposited {
		want += 5
	}
	if total == want {
		if deposited {
			return "as before plus the deposit: every transfer was all or nothing"
		}
		return "as before: every transfer was all or nothing"
	}
	return fmt.Sprintf("WRONG: it should be %d", want)
}
