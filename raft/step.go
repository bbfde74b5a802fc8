package raft

import "fmt"

// Step hands the server a message from a peer. A message that is
// malformed or impossible (from an unknown server, not addressed to this
// one, with entries out of order or from a future term) is dropped, counted in Status, and reported with an error wrapping
// ErrInvalidMessage; the server is unchanged. Messages from an older term
// are answered or ignored as the paper says, and are not errors.
func (r *Raft) Step(m Message) error {
	if err := r.validate(m); err != nil {
		r.counters.InvalidMessages++
		return err
	}

	// Figure 2, all servers: "if RPC request or response contains term
	// T > currentTerm: set currentTerm = T, convert to follower".
	switch {
	case m.Term > r.term:
		if r.inLease(m) {
			r.counters.IgnoredVotes++ // §6: a disruptive server; do not even adopt its term
			return nil
		}
		// A PreVote, and a pre-vote granted, name a term nobody is in
		// yet: they change nothing.
		if m.Type != PreVote && (m.Type != PreVoteReply || !m.VoteGranted) {
			leader := None
			if m.Type == AppendEntries || m.Type == InstallSnapshot {
				leader = m.From
			}
			r.becomeFollower(m.Term, leader)
		}
	case m.Term < r.term:
		r.counters.StaleMessages++
		r.answerStale(m)
		return nil
	}

	switch m.Type {
	case RequestVote, PreVote:
		r.handleVoteRequest(m)
		return nil
	}
	switch r.state {
	case Leader:
		r.stepLeader(m)
	case Candidate, PreCandidate:
		r.stepCandidate(m)
	default:
		r.stepFollower(m)
	}
	return nil
}

func (r *Raft) stepFollower(m Message) {
	switch m.Type {
	case AppendEntries:
		r.electionElapsed = 0 // Figure 2, followers: heard from the current leader
		r.leader = m.From
		r.handleAppendEntries(m)
	case InstallSnapshot:
		r.electionElapsed = 0
		r.leader = m.From
		r.handleInstallSnapshot(m)
	case TimeoutNow:
		r.hup(true) // the leader hands over: campaign now, skipping PreVote
	case ReadIndexReply:
		r.readStates = append(r.readStates, ReadState{ID: m.ReadID, Index: m.Index})
	}
	// Anything else is a reply this server no longer waits for.
}

func (r *Raft) stepCandidate(m Message) {
	switch m.Type {
	case AppendEntries, InstallSnapshot:
		// §5.2: "If the leader's term ... is at least as large as the
		// candidate's current term, then the candidate recognizes the
		// leader as legitimate and returns to follower state."
		r.becomeFollower(m.Term, m.From)
		r.stepFollower(m)
	case RequestVoteReply:
		if r.state == Candidate {
			r.poll(m.From, m.VoteGranted)
		}
	case PreVoteReply:
		if r.state == PreCandidate {
			r.poll(m.From, m.VoteGranted)
		}
	}
}

func (r *Raft) stepLeader(m Message) {
	pr := r.progress[m.From]
	pr.recentActive = true
	switch m.Type {
	case AppendEntriesReply:
		r.handleAppendEntriesReply(m, pr)
	case InstallSnapshotReply:
		r.handleInstallSnapshotReply(m, pr)
	case ReadIndex:
		r.handleReadIndex(m)
	}
}

// answerStale answers a request from an older term with the current term
// and a refusal (Figure 2: "reply false if term < currentTerm"), which
// tells a deposed leader or an old candidate to step down. Stale replies
// are ignored.
func (r *Raft) answerStale(m Message) {
	reply := Message{To: m.From}
	switch m.Type {
	case AppendEntries:
		reply.Type, reply.PrevLogIndex = AppendEntriesReply, m.PrevLogIndex
	case InstallSnapshot:
		reply.Type = InstallSnapshotReply
	case RequestVote:
		reply.Type = RequestVoteReply
	case PreVote:
		reply.Type = PreVoteReply
	default:
		return
	}
	r.send(reply)
}

// validate returns an error wrapping ErrInvalidMessage if m is not a
// message any correct peer would send this server.
func (r *Raft) validate(m Message) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %v: %s", ErrInvalidMessage, m, fmt.Sprintf(format, args...))
	}
	switch {
	case m.Type == 0 || m.Type >= numMessageTypes:
		return bad("unknown type")
	case m.To != r.id:
		return bad("addressed to %d, not to this server", m.To)
	case m.From == r.id || !r.isPeer(m.From):
		return bad("sender %d is not a peer", m.From)
	case m.Term == 0:
		return bad("no term")
	}
	switch m.Type {
	case AppendEntries:
		if m.PrevLogTerm > m.Term || (m.PrevLogIndex == 0 && m.PrevLogTerm != 0) {
			return bad("previous entry of term %d", m.PrevLogTerm)
		}
		prevTerm := m.PrevLogTerm
		for i, e := range m.Entries {
			switch {
			case e.Index != m.PrevLogIndex+1+uint64(i) || e.Index == 0:
				return bad("entry %d out of place", e.Index)
			case e.Term < prevTerm || e.Term > m.Term:
				return bad("entry %d of term %d out of order", e.Index, e.Term)
			case e.Type > EntryNoop:
				return bad("entry %d of unknown type %d", e.Index, e.Type)
			}
			prevTerm = e.Term
		}
	case InstallSnapshot:
		if m.Snapshot.Index == 0 || m.Snapshot.Term == 0 || m.Snapshot.Term > m.Term {
			return bad("snapshot %d of term %d", m.Snapshot.Index, m.Snapshot.Term)
		}
	}
	return nil
}
