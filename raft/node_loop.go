package raft

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"
)

// pendingReadIndex is a ReadIndex call waiting for its ReadState.
type pendingReadIndex struct {
	ctx    context.Context // the caller's: when it ends, the loop forgets the read
	term   uint64          // the term it was asked in
	leader bool            // whether this server was the leader then
	done   chan readResult // size 1
}

type readResult struct {
	index uint64
	err   error
}

// pendingTransfer is a TransferLeadership call waiting for the outcome.
type pendingTransfer struct {
	to   uint64
	done chan error // size 1
}

// maxDrain is how many more proposals and messages the loop takes, once
// woken, before it makes a Ready: they then share one Save and one
// AppendEntries per follower.
const maxDrain = 256

// run is the Ready loop, the node's one goroutine that touches n.raft:
//
//	  tick ─┐
//	message ├─► Raft ──Ready──► 1. save entries, hard state, snapshot (Storage)
//	propose ┘    ▲              2. send messages (peer outboxes; never blocks)
//	             │              3. hand committed entries to the applier
//	             └──Advance──── 4. answer ReadIndex calls
//
// Saving comes before sending: a message may promise what was saved (a
// vote, an acknowledgement), and once it is sent the promise cannot be
// taken back. One kind of message promises nothing of the sender's disk:
// a leader's AppendEntries. Those go out before the save, so that the
// followers write their disks while the leader writes its own (see
// handleReady). And a Ready that changes only the commit index is not
// saved at all (see save).
func (n *Node) run() {
	defer close(n.stopped)
	ticker := time.NewTicker(max(n.phase, 1)) // the first tick; then every n.tick
	defer ticker.Stop()
	inStep := false
	for {
		if err := n.handleReady(); err != nil {
			n.err = err
			n.final = n.raft.Status()
			return
		}
		n.checkWaiters()
		select {
		case <-ticker.C:
			if !inStep {
				ticker.Reset(n.tick)
				inStep = true
			}
			n.raft.Tick()
			n.forgetAbandonedReads()
		case m := <-n.recvc:
			_ = n.raft.Step(m) // an invalid message is dropped and counted
			n.drain(false)
		case p := <-n.propc:
			n.propose(p)
			n.drain(n.busy())
		case f := <-n.ctlc:
			f()
		case <-n.applier.room:
		case <-n.done:
			n.final = n.raft.Status()
			return
		}
	}
}

// busy reports whether this server leads with proposals other than the
// last one in flight: then more are likely on their way, from clients
// whose earlier ones are committing.
func (n *Node) busy() bool {
	return n.raft.State() == Leader && n.raft.log.lastIndex()-n.raft.log.committed > 1
}

// drain takes the proposals and messages that are already waiting, up to
// maxDrain, so that they go in one Ready. With yield, when none waits, it
// lets the other goroutines run once and looks again: clients woken by
// the last commit are about to propose, and a Ready that waits for them
// saves once and sends one AppendEntries per follower for them all,
// where without the yield the loop, quicker than they, would make a Ready
// per proposal. Measured with 64 proposers in memory, it doubled commits/s
// and halved the median latency; the loop yields only when busy, so that
// a lone client does not pay for it.
func (n *Node) drain(yield bool) {
	for range maxDrain {
		select {
		case m := <-n.recvc:
			_ = n.raft.Step(m)
		case p := <-n.propc:
			n.propose(p)
		default:
			if !yield {
				return
			}
			runtime.Gosched()
			yield = false
		}
	}
}

// handleReady does what the Ready says, in order, while there is one.
// Committed entries wait in the log while the applier's backlog is full.
func (n *Node) handleReady() error {
	for {
		room := n.applier.hasRoom()
		if !n.raft.hasReady(room) {
			return nil
		}
		rd := n.raft.ready(room)
		synced := n.saved.Term // save may change it
		for _, m := range rd.Messages {
			if sendsEarly(m, synced) {
				n.peers[m.To].enqueue(m)
			}
		}
		if err := n.save(rd); err != nil {
			return err
		}
		for _, m := range rd.Messages {
			if !sendsEarly(m, synced) {
				n.peers[m.To].enqueue(m)
			}
		}
		n.applier.push(applyMsgs(rd))
		for _, rs := range rd.ReadStates {
			if p, ok := n.reads[rs.ID]; ok {
				p.done <- readResult{index: rs.Index}
				delete(n.reads, rs.ID)
			}
		}
		n.raft.Advance(rd)
	}
}

// sendsEarly reports whether m may be sent before the save of its Ready,
// syncedTerm being the term on disk before that save.
//
// A leader may send AppendEntries before its own disk has its entries
// (the Raft thesis, §10.2.1): the message promises nothing about the
// leader's disk, and an entry counts as committed only once a majority
// holds it durably, the leader included. Raft counts the leader's own
// copy as soon as it is appended, but commits only on a follower's
// acknowledgement, which this loop steps only after this Ready's save
// has returned. Saving then sending made each commit wait for two fsyncs
// in a row, the leader's and then a follower's; now they overlap. The
// message's term must be durable already (it always is, except in the
// Ready in which the server stood for election), and so must the entries
// up to its commit index (they are: the leader commits only what it had
// saved).
func sendsEarly(m Message, syncedTerm uint64) bool {
	return m.Type == AppendEntries && m.Term == syncedTerm
}

// save makes rd's snapshot, entries, term and vote durable.
//
// A change of the commit index alone is not saved at once: it waits for
// the next Save that has entries or a new term or vote to write. Figure 2
// counts commitIndex as volatile: it promises nothing to anyone, and a
// server that restarts with an older one learns the newer one again from
// the leader (or, leading, from its own log), only re-applying a little
// more from its snapshot. Saving it cost every server an fsync per
// commit, and on the leader that fsync stood between a commit and its
// application, a third one in a row after its own and the follower's.
func (n *Node) save(rd Ready) error {
	if !rd.Snapshot.IsEmpty() {
		err := n.storage.SaveSnapshot(rd.Snapshot)
		if err != nil && !errors.Is(err, ErrSnapshotOutOfDate) {
			return fmt.Errorf("raft: save snapshot: %w", err)
		}
	}
	hs := n.raft.hardState() // rd's, or the one before if rd has none
	if len(rd.Entries) == 0 && hs.Term == n.saved.Term && hs.VotedFor == n.saved.VotedFor {
		return nil
	}
	if err := n.storage.Save(hs, rd.Entries); err != nil {
		return fmt.Errorf("raft: save: %w", err)
	}
	n.saved = hs
	return nil
}

// applyMsgs returns what rd gives the application: its snapshot, then its
// committed commands (no-ops are the protocol's own business).
func applyMsgs(rd Ready) []ApplyMsg {
	var msgs []ApplyMsg
	if s := rd.Snapshot; !s.IsEmpty() {
		msgs = append(msgs, ApplyMsg{Index: s.Index, Term: s.Term, Snapshot: s})
	}
	for _, e := range rd.CommittedEntries {
		if e.Type == EntryCommand {
			msgs = append(msgs, ApplyMsg{Index: e.Index, Term: e.Term, Command: e.Data})
		}
	}
	return msgs
}

// checkWaiters answers the ReadIndex and TransferLeadership calls that
// leadership changes have decided.
func (n *Node) checkWaiters() {
	r := n.raft
	if r.Term() != n.lastTerm || r.State() != n.lastState {
		n.lastTerm, n.lastState = r.Term(), r.State()
		for id, p := range n.reads {
			// A read asked in an earlier term, or of a leader that is no
			// more, will not be answered.
			if p.term != r.Term() || (p.leader && r.State() != Leader) {
				p.done <- readResult{err: n.notLeader()}
				delete(n.reads, id)
			}
		}
	}
	kept := n.transfers[:0]
	for _, t := range n.transfers {
		switch {
		case r.Leader() == t.to:
			t.done <- nil
		case r.State() == Leader && r.Transferee() != t.to,
			r.Leader() != None && r.Leader() != r.ID():
			t.done <- ErrTransferFailed
		default:
			kept = append(kept, t)
		}
	}
	clear(n.transfers[len(kept):])
	n.transfers = kept
}

// forgetAbandonedReads drops the reads whose callers stopped waiting.
func (n *Node) forgetAbandonedReads() {
	for id, p := range n.reads {
		if p.ctx.Err() != nil {
			delete(n.reads, id)
		}
	}
}
