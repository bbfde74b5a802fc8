package raft

// Ready is the work a server wants done: what to save, what to send, what
// to apply. The caller does it in this order, then calls Advance:
//
//  1. Save: Storage.SaveSnapshot(Snapshot) if it is not empty, then
//     Storage.Save(HardState, Entries). Nothing may be sent before this is
//     durable: Messages promise it (a vote, an acknowledgement).
//  2. Send Messages. Any may be lost; Raft sends again what matters.
//  3. Apply: install Snapshot in the state machine if it is not empty,
//     then apply CommittedEntries in order (skipping EntryNoop ones), and
//     serve the ReadStates whose index has been applied.
//  4. Advance(rd).
//
// Node bends this order twice (node_loop.go). It sends a leader's
// AppendEntries before the save, since they promise nothing of the
// leader's disk; that is safe only because Node steps no reply to them
// before the save has returned (Raft counts the leader's own copy of an
// entry as soon as it is appended, so a driver that stepped replies
// meanwhile could commit an entry that only one follower holds). And it
// leaves a HardState that changes only Commit to be saved with the next
// entries, since the commit index is volatile state (Figure 2).
type Ready struct {
	// HardState is the term, vote and commit index to save; the zero
	// HardState if they did not change.
	HardState HardState
	// Entries are new log entries to save. The first may replace saved
	// entries at its index and after (a conflicting suffix, §5.3).
	Entries []Entry
	// Snapshot is a leader's snapshot to save and install, replacing the
	// log (Figure 13); empty if there is none.
	Snapshot Snapshot
	// Messages are for the peers, to send once the above is saved.
	Messages []Message
	// CommittedEntries are committed and not yet applied, in log order.
	CommittedEntries []Entry
	// ReadStates answer ReadIndex requests.
	ReadStates []ReadState
}

// HasReady reports whether Ready would have anything to do.
func (r *Raft) HasReady() bool { return r.hasReady(true) }

// Ready returns the work to do now. Call Advance when it is done, before
// the next Ready; Tick, Step and the other calls may come in between.
func (r *Raft) Ready() Ready { return r.ready(true) }

// hasReady and ready, without committed entries: a driver whose
// application lags applies fewer at a time but keeps saving and sending.
func (r *Raft) hasReady(withCommitted bool) bool {
	return len(r.msgs) > 0 || len(r.readStates) > 0 ||
		r.appendPending || r.commitPending || r.readRoundDue() ||
		len(r.log.unstable.entries) > 0 || r.log.unstable.snapshot != nil ||
		r.hardState() != r.prevHard ||
		(withCommitted && r.log.hasNextCommitted())
}

func (r *Raft) ready(withCommitted bool) Ready {
	r.flush()
	rd := Ready{
		Entries:    r.log.unstableEntries(),
		Messages:   r.msgs,
		ReadStates: r.readStates,
	}
	r.msgs, r.readStates = nil, nil
	if s := r.log.unstable.snapshot; s != nil {
		rd.Snapshot = *s
	}
	if hs := r.hardState(); hs != r.prevHard {
		rd.HardState = hs
	}
	if withCommitted {
		ents, err := r.log.nextCommitted(r.maxApplyBytes)
		if err != nil {
			r.counters.StorageErrors++ // try again at the next Ready
		}
		rd.CommittedEntries = ents
	}
	return rd
}

// flush sends the leader's batched work: the entries proposed since the
// last Ready go out in as few AppendEntries as MaxMsgBytes allows (rather
// than one message per Propose), followers hear of a new commit index,
// and reads waiting for a heartbeat round get one.
func (r *Raft) flush() {
	if r.state != Leader {
		return
	}
	if r.readRoundDue() {
		r.startReadRound()
	}
	if r.appendPending || r.commitPending {
		for _, id := range r.peers {
			if id != r.id {
				r.sendAppends(id)
			}
		}
		r.appendPending, r.commitPending = false, false
	}
}

// Advance tells the server that rd is done: its entries and snapshot are
// saved, its committed entries applied.
func (r *Raft) Advance(rd Ready) {
	if !rd.HardState.IsEmpty() {
		r.prevHard = rd.HardState
	}
	if !rd.Snapshot.IsEmpty() {
		r.log.unstable.stableSnapTo(rd.Snapshot.Index)
		r.log.appliedTo(rd.Snapshot.Index)
	}
	if n := len(rd.Entries); n > 0 {
		e := rd.Entries[n-1]
		r.log.unstable.stableTo(e.Index, e.Term)
	}
	if n := len(rd.CommittedEntries); n > 0 {
		r.log.appliedTo(rd.CommittedEntries[n-1].Index)
	}
}

func (r *Raft) hardState() HardState {
	return HardState{Term: r.term, VotedFor: r.votedFor, Commit: r.log.committed}
}
