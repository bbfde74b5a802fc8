package raft

import "errors"

// This file is log replication (§5.3): the leader sending AppendEntries,
// the follower receiving them, and the leader handling the replies.

// sendAppend sends follower `to` the entries from its nextIndex on (as
// many as fit in MaxMsgBytes), or, with sendIfEmpty, an empty
// AppendEntries that carries the commit index. If the entries it needs
// are compacted, it sends the snapshot instead. It reports whether it sent
// anything.
func (r *Raft) sendAppend(to uint64, sendIfEmpty bool) bool {
	pr := r.progress[to]
	if pr.isPaused() {
		return false
	}
	prevIndex := pr.next - 1
	prevTerm, err := r.log.term(prevIndex)
	var ents []Entry
	if err == nil {
		ents, err = r.log.entries(pr.next, r.maxMsgBytes)
	}
	switch {
	case errors.Is(err, ErrCompacted):
		return r.sendSnapshot(to, pr)
	case err != nil:
		r.counters.StorageErrors++
		return false
	case len(ents) == 0 && !sendIfEmpty:
		return false
	}
	r.send(Message{To: to, Type: AppendEntries, PrevLogIndex: prevIndex, PrevLogTerm: prevTerm,
		Entries: ents, LeaderCommit: r.log.committed})
	pr.sentCommit = r.log.committed
	if n := len(ents); n > 0 {
		pr.sentEntries(ents[n-1].Index)
	} else if pr.state == probing {
		pr.paused = true
	}
	return true
}

// sendAppends sends follower `to` everything it may have now: one message
// when probing, up to MaxInflight when replicating; and if it has not been
// told the current commit index, at least an empty AppendEntries that
// tells it.
func (r *Raft) sendAppends(to uint64) {
	sendIfEmpty := r.progress[to].sentCommit < r.log.committed
	for r.sendAppend(to, sendIfEmpty) {
		sendIfEmpty = false
	}
}

// broadcastHeartbeat starts a new heartbeat round: an empty AppendEntries
// to every follower (Figure 2, leaders: "repeat during idle periods to
// prevent election timeouts"). It claims only what the leader knows the
// follower has (PrevLogIndex = matchIndex), so a follower accepts it even
// while entries are still on their way to it; and its reply tells the
// leader whether the entries sent before it were lost (lostBeforeHeartbeat).
func (r *Raft) broadcastHeartbeat() {
	r.heartbeatElapsed = 0
	r.round++
	for _, id := range r.peers {
		if id == r.id {
			continue
		}
		pr := r.progress[id]
		prevIndex := pr.match
		prevTerm, err := r.log.term(prevIndex)
		if err != nil {
			// Compacted: claim nothing instead. Index 0 matches every
			// log (and the follower answers with its commit index).
			prevIndex, prevTerm = 0, 0
		}
		r.send(Message{To: id, Type: AppendEntries, PrevLogIndex: prevIndex, PrevLogTerm: prevTerm,
			LeaderCommit: r.log.committed})
		pr.sentCommit = min(r.log.committed, prevIndex) // it commits no further than it matches
		pr.heartbeatRound, pr.heartbeatNext = r.round, 0
		if pr.state == replicating {
			pr.heartbeatNext = pr.next
		}
	}
}

// handleAppendEntries is the receiver's side of AppendEntries (Figure 2).
// The reply carries the index up to which the follower's log now matches
// the leader's, or, on a mismatch, the conflict hint for fast back-up.
func (r *Raft) handleAppendEntries(m Message) {
	reply := Message{To: m.From, Type: AppendEntriesReply, PrevLogIndex: m.PrevLogIndex, Round: m.Round}
	if m.PrevLogIndex < r.log.committed {
		// A delayed or repeated message: the log up to commitIndex is
		// committed, so it is the leader's too (§5.4, Leader
		// Completeness). Say so, and let the leader send what follows.
		reply.Success, reply.MatchIndex = true, r.log.committed
		r.send(reply)
		return
	}
	if last, ok := r.log.maybeAppend(m.PrevLogIndex, m.PrevLogTerm, m.LeaderCommit, m.Entries); ok {
		reply.Success, reply.MatchIndex = true, last
	} else {
		reply.ConflictIndex, reply.ConflictTerm = r.conflictHint(m.PrevLogIndex)
	}
	r.send(reply)
}

// conflictHint tells a leader whose AppendEntries did not match at
// prevIndex where to try next, to skip a whole term of entries per round
// trip rather than one entry (§5.3, the optimization at the end): if the
// log is too short, its length; else the term of the entry at prevIndex,
// and the first index of that term.
func (r *Raft) conflictHint(prevIndex uint64) (index, term uint64) {
	if last := r.log.lastIndex(); prevIndex > last {
		return last + 1, 0
	}
	term, err := r.log.term(prevIndex)
	if err != nil {
		return r.log.committed + 1, 0
	}
	// Entries up to commitIndex match the leader's, so the search
	// stops there.
	return r.log.firstIndexOfTerm(max(r.log.committed+1, r.log.firstIndex()), prevIndex), term
}

// handleAppendEntriesReply is the leader's side of an AppendEntries
// reply (Figure 2, leaders): on success, update matchIndex and nextIndex,
// commit what a majority now has, and keep sending; on failure, move
// nextIndex back by the follower's hint and retry.
func (r *Raft) handleAppendEntriesReply(m Message, pr *progress) {
	if m.Round > pr.ackedRound {
		pr.ackedRound = m.Round
		r.confirmReads()
	}
	pr.paused = false // heard from it: a probe may go again
	switch {
	case !m.Success:
		if pr.maybeBackOff(m.PrevLogIndex, r.nextAfterConflict(m)) {
			r.sendAppend(m.From, false)
			return
		}
	case pr.maybeUpdate(m.MatchIndex):
		switch {
		case pr.state == probing:
			pr.becomeReplicate()
		case pr.state == snapshotting && pr.match >= pr.pendingSnap:
			pr.becomeProbe()
		}
		r.maybeCommit()
		if m.From == r.transferee && pr.match == r.log.lastIndex() {
			r.send(Message{To: m.From, Type: TimeoutNow}) // caught up: hand over
		}
	}
	if pr.lostBeforeHeartbeat(m.Round) {
		pr.becomeProbe() // resend from the match index
	}
	r.sendAppends(m.From)
}

// nextAfterConflict turns a follower's conflict hint into the leader's
// next guess for its nextIndex: just past the leader's last entry of the
// conflicting term if the leader has that term, else the follower's first
// index of it (or the follower's log length).
func (r *Raft) nextAfterConflict(m Message) uint64 {
	if m.ConflictTerm != 0 {
		if i := r.log.lastIndexOfTerm(m.ConflictTerm); i != 0 {
			return i + 1
		}
	}
	return m.ConflictIndex
}
