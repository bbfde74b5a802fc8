package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rpc"
)

// crashPoint is where -crash stops the coordinator in the third
// transaction.
type crashPoint string

const (
	noCrash       crashPoint = ""
	afterPrepare  crashPoint = "prepare"  // the votes are in, no decision logged
	afterDecision crashPoint = "decision" // the decision is logged, not sent
)

// step is one participant's part of a transaction.
type step struct {
	bank string
	op   Op
}

// Coordinator runs transactions with two-phase commit. It is the rpc
// service "Coordinator" too, which a participant asks for the outcome of
// a transaction it is unsure of. Its memory dies with it; its log does
// not, and a new coordinator recovers from the log.
type Coordinator struct {
	log     *txlog
	banks   map[string]*rpc.Client // by participant name
	timeout time.Duration          // how long to wait for one participant
	out     io.Writer              // the narration
	// votesIn, if not nil, is called once the votes of a transaction are
	// in, before the decision is logged; false means the coordinator died
	// meanwhile. The live mode waits there, so that a class can crash the
	// coordinator at the worst moment.
	votesIn func(ctx context.Context, tx string) bool

	mu     sync.Mutex // protects states
	states map[string]*txState
}

// result is what became of a transaction that run ran.
type result struct {
	decision string // "commit" or "abort"; "" if the coordinator crashed first
	crashed  bool   // the coordinator stopped where -crash said
	votes    int    // participants that voted, YES or NO
}

// run runs transaction tx: phase 1, prepare everywhere and collect the
// votes; log the decision; phase 2, send it everywhere. With crash set,
// it stops where crash says, as if the coordinator had died there.
func (c *Coordinator) run(ctx context.Context, tx string, steps []step, crash crashPoint) (result, error) {
	if err := c.record(tx, "begin"); err != nil {
		return result{}, err
	}
	r := result{decision: "commit"}
	fmt.Fprintf(c.out, "   coord -> %s: prepare %s\n", join(banksOf(steps)), tx)
	for _, s := range steps {
		var v Vote
		err := c.call(ctx, s.bank, "Bank.Prepare", &PrepareArgs{Tx: tx, Op: s.op}, &v)
		if err == nil {
			r.votes++
		}
		switch {
		case err != nil:
			fmt.Fprintf(c.out, "   %s: no vote (%v): counts as NO\n", s.bank, brief(err))
			r.decision = "abort"
		case v.Yes:
			fmt.Fprintf(c.out, "   %s: locks %s and votes YES: it promises to apply %+d if told to commit\n", s.bank, s.op.Account, s.op.Delta)
		default:
			fmt.Fprintf(c.out, "   %s: votes NO (%s) and unlocks %s\n", s.bank, v.Why, s.op.Account)
			r.decision = "abort"
		}
	}
	if crash == afterPrepare || (c.votesIn != nil && !c.votesIn(ctx, tx)) {
		return result{crashed: true, votes: r.votes}, nil
	}
	if err := c.record(tx, r.decision); err != nil {
		return result{}, err
	}
	if crash == afterDecision {
		r.crashed = true
		return r, nil
	}
	return r, c.finish(ctx, tx, r.decision, banksOf(steps))
}

// finish is phase 2: it tells every participant the decision, and logs
// the end once all have acknowledged. A participant that does not answer
// is told again, up to maxTellings times in all; if it still has not
// answered, the transaction stays unfinished in the log, and recovery
// will tell it again.
func (c *Coordinator) finish(ctx context.Context, tx, decision string, banks []string) error {
	method := "Bank.Commit"
	if decision == "abort" {
		method = "Bank.Abort"
	}
	acked := 0
	for _, b := range banks {
		var err error
		for range maxTellings {
			if err = c.call(ctx, b, method, &tx, nil); err == nil || ctx.Err() != nil {
				break
			}
		}
		if err != nil {
			fmt.Fprintf(c.out, "   %s has not acknowledged %s after %d tries (%v): it stays in doubt\n", b, decision, maxTellings, brief(err))
			continue
		}
		acked++
	}
	fmt.Fprintf(c.out, "   coord -> %s: %s %s; acknowledged by %d of %d\n", join(banks), decision, tx, acked, len(banks))
	if acked < len(banks) {
		return nil
	}
	return c.record(tx, "end")
}

// maxTellings is how many times finish tells a participant the decision
// before it gives up until the next recovery.
const maxTellings = 5

// recover is a restarted coordinator's first act: every transaction its
// log shows unfinished is finished. One with a decision gets it sent
// again; one without a decision is aborted (no participant can have
// committed it, since none was told to).
func (c *Coordinator) recover(ctx context.Context, rs []record, participants map[string][]string) error {
	states, order := states(rs)
	c.mu.Lock()
	c.states = states
	c.mu.Unlock()
	for _, tx := range order {
		s := states[tx]
		if s.ended {
			continue
		}
		decision := s.decision
		if decision == "" {
			fmt.Fprintf(c.out, "   the log has %s begin, and no decision: nobody can have committed it, so abort it\n", tx)
			decision = "abort"
			if err := c.record(tx, decision); err != nil {
				return err
			}
		} else {
			fmt.Fprintf(c.out, "   the log has %s %s, and no end: tell the participants again\n", tx, decision)
		}
		if err := c.finish(ctx, tx, decision, participants[tx]); err != nil {
			return err
		}
	}
	return nil
}

// Outcome answers a participant's question: what became of transaction
// tx? "commit" or "abort" once decided; "pending" while the coordinator
// is still collecting votes.
func (c *Coordinator) Outcome(tx *string, outcome *string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.states[*tx]
	switch {
	case !ok:
		*outcome = "abort" // never begun here: nobody can have committed it
	case s.decision == "":
		*outcome = "pending"
	default:
		*outcome = s.decision
	}
	return nil
}

// outcomeOf returns the decision the coordinator knows for tx, or "".
func (c *Coordinator) outcomeOf(tx string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.states[tx]; ok {
		return s.decision
	}
	return ""
}

// record appends a record to the log, and says so.
func (c *Coordinator) record(tx, what string) error {
	if err := c.log.append(tx, what); err != nil {
		return err
	}
	c.mu.Lock()
	s, ok := c.states[tx]
	if !ok {
		s = &txState{}
		c.states[tx] = s
	}
	switch what {
	case "commit", "abort":
		s.decision = what
	case "end":
		s.ended = true
	}
	c.mu.Unlock()
	note := ""
	if what == "commit" {
		note = "  <- the commit point: from now on the transaction commits, crash or not"
	}
	fmt.Fprintf(c.out, "   coord log: %s %s (on disk)%s\n", tx, what, note)
	return nil
}

// call calls a participant, waiting at most c.timeout.
func (c *Coordinator) call(ctx context.Context, bank, method string, args, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	return c.banks[bank].Call(ctx, method, args, reply)
}

// banksOf returns the participants of steps, each once, in order.
func banksOf(steps []step) []string {
	var bs []string
	for _, s := range steps {
		if !slices.Contains(bs, s.bank) {
			bs = append(bs, s.bank)
		}
	}
	return bs
}

// brief says in a few words why a call failed.
func brief(err error) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer in time"
	case errors.Is(err, errLocked):
		return "the account is locked by another transaction"
	}
	return err.Error()
}

// join lists names: "bank-a, bank-b".
func join(names []string) string { return strings.Join(names, ", ") }
