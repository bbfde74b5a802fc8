package rsm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/raft"
)

// waiter is a Submit (or a Read through the log) waiting for its entry.
type waiter struct {
	id, index   uint64 // index is 0 until Propose returns it
	client, seq uint64
	done        chan outcome // size 1: finish never blocks
	finished    bool         // under RSM.mu
}

type outcome struct {
	result []byte
	err    error
}

// finish answers the waiter, once. The caller holds RSM.mu.
func (w *waiter) finish(result []byte, err error) {
	if !w.finished {
		w.finished = true
		w.done <- outcome{result, err}
	}
}

// Submit applies req's command to the replicated state machine, exactly
// once across retries of the same (Client, Seq), and returns its result.
// It blocks until the command is applied on this replica, or fails.
//
// Errors: a *raft.NotLeaderError (matching raft.ErrNotLeader, naming the
// leader if known) when this replica is not the leader, and
// raft.ErrProposalDropped when the leader refuses more work: the command
// was not applied. ErrNotApplied when the command's entry was replaced by
// a new leader's. ErrMaybeApplied when ctx ends or this replica loses its
// leadership while the command waits: it may yet be applied (the error
// then also wraps ctx.Err() or a *raft.NotLeaderError). ErrStaleRequest
// for a Seq below the client's latest; ErrClosed after Close. Submitting
// again after any of them is safe.
func (r *RSM) Submit(ctx context.Context, req Request) ([]byte, error) {
	return r.propose(ctx, entry{kind: kindCommand, client: req.Client, seq: req.Seq, payload: req.Cmd})
}

// Read answers the read-only query q from the state machine,
// linearizably: the answer reflects every command whose Submit returned
// before Read was called. It uses ReadIndex (thesis §6.4): the leader
// confirms it still leads with one round of heartbeats, and this replica
// (leader or follower) answers once it has applied the log that far. With
// WithReadsThroughLog it submits q as a log entry instead.
//
// Errors: a *raft.NotLeaderError when no leader is known or leadership
// changed meanwhile, ctx.Err() when ctx ends first, ErrClosed after Close;
// through the log, those of Submit. A read changes nothing, so it may
// always be retried.
func (r *RSM) Read(ctx context.Context, q []byte) ([]byte, error) {
	if r.opts.readsInLog {
		return r.propose(ctx, entry{kind: kindQuery, payload: q})
	}
	index, err := r.node.ReadIndex(ctx)
	if err != nil {
		return nil, r.nodeErr(err)
	}
	for {
		r.mu.Lock()
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return nil, err
		}
		if r.caughtUp(index) {
			res := r.sm.Query(q)
			r.mu.Unlock()
			return res, nil
		}
		advanced := r.advanced
		r.mu.Unlock()
		select {
		case <-advanced:
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-r.stopped:
			return nil, ErrClosed
		}
	}
}

// caughtUp reports whether the state machine reflects the log up to
// index. The caller holds mu.
//
// Counting the applied commands is not enough: raft.Node does not
// deliver the no-op a new leader commits at the start of its term, and
// the read index is often that no-op's. So when the applied index is
// short of it, the entries between are looked up: if none is a command,
// the state is the same as if they had been applied.
func (r *RSM) caughtUp(index uint64) bool {
	for lo := r.applied + 1; lo <= index; {
		ents, err := r.storage.Entries(lo, index+1, 64<<10)
		if err != nil || len(ents) == 0 {
			return false // compacted past applied: a snapshot is on its way
		}
		for _, e := range ents {
			if e.Type == raft.EntryCommand {
				return false
			}
		}
		lo = ents[len(ents)-1].Index + 1
	}
	return true
}

// propose puts e in the log and waits for the apply loop to apply it.
func (r *RSM) propose(ctx context.Context, e entry) ([]byte, error) {
	w, err := r.register(&e)
	if err != nil {
		return nil, err
	}
	defer r.unregister(w)
	index, term, err := r.node.Propose(ctx, e.encode())
	switch {
	case err != nil && ctx.Err() != nil:
		// Propose may have handed the command to raft before ctx ended.
		return r.maybe(w, ctx.Err())
	case err != nil:
		return nil, r.nodeErr(err) // not the leader, or refused: not in the log
	}
	r.setIndex(w, index)
	check := time.NewTicker(r.opts.leaderCheck)
	defer check.Stop()
	for {
		select {
		case o := <-w.done:
			return o.result, o.err
		case <-ctx.Done():
			return r.maybe(w, ctx.Err())
		case <-check.C:
			if st := r.node.Status(); st.Term != term || st.State != raft.Leader {
				return r.maybe(w, &raft.NotLeaderError{Leader: st.Leader, LeaderAddr: r.addrs[st.Leader]})
			}
		}
	}
}

// maybe returns w's outcome if it has one after all, or ErrMaybeApplied
// wrapping why Submit stopped waiting.
func (r *RSM) maybe(w *waiter, why error) ([]byte, error) {
	select {
	case o := <-w.done:
		return o.result, o.err
	default:
		return nil, fmt.Errorf("%w: %w", ErrMaybeApplied, why)
	}
}

// register makes a waiter for e, giving e its proposal id, before e is
// proposed: so the apply loop finds it however soon e is applied.
func (r *RSM) register(e *entry) (*waiter, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	r.nextID++
	e.nonce, e.proposal = r.nonce, r.nextID
	w := &waiter{id: r.nextID, client: e.client, seq: e.seq, done: make(chan outcome, 1)}
	r.waiters[w.id] = w
	return w, nil
}

// setIndex records where raft put w's entry. If the log is applied past
// it already and w has no answer, its entry was replaced, or a snapshot
// covered it.
func (r *RSM) setIndex(w *waiter, index uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	w.index = index
	switch {
	case w.finished:
	case index <= r.restoredTo && index <= r.applied:
		w.finish(r.outcomeBySession(w))
	case index <= r.applied:
		w.finish(nil, ErrNotApplied)
	default:
		r.byIndex[index] = append(r.byIndex[index], w.id)
	}
}

func (r *RSM) unregister(w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.waiters, w.id)
	// byIndex entries of w are removed when the log is applied past them.
}

// nodeErr turns the node's ErrClosed into the RSM's.
func (r *RSM) nodeErr(err error) error {
	if errors.Is(err, raft.ErrClosed) {
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	return err
}
