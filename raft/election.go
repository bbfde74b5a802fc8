package raft

// This file is leader election (§5.2): the transitions between the three
// roles, campaigning, and voting.

// becomeFollower makes the server a follower in term, of leader (None if
// unknown). A new term clears the vote.
func (r *Raft) becomeFollower(term, leader uint64) {
	if term != r.term {
		r.term, r.votedFor = term, None
	}
	r.reset(Follower, leader)
}

// becomePreCandidate starts asking for pre-votes, in the current term:
// nothing changes that must be saved.
func (r *Raft) becomePreCandidate() {
	r.reset(PreCandidate, None)
	r.votes = make(map[uint64]bool)
}

// becomeCandidate starts an election (Figure 2, candidates: "increment
// currentTerm, vote for self, reset election timer").
func (r *Raft) becomeCandidate() {
	r.term++
	r.votedFor = r.id
	r.reset(Candidate, None)
	r.votes = make(map[uint64]bool)
}

// becomeLeader takes office: nextIndex is set just past the leader's log
// for every follower (Figure 2, leaders), and an EntryNoop is appended so
// that this term has an entry to commit, which commits everything before
// it (§8). Sending it is the initial heartbeat.
func (r *Raft) becomeLeader() {
	r.reset(Leader, r.id)
	next := r.log.lastIndex() + 1
	r.progress = make(map[uint64]*progress, len(r.peers))
	for _, id := range r.peers {
		pr := newProgress(next, r.maxInflight)
		pr.recentActive = true // a new leader gets a full period before CheckQuorum judges it
		r.progress[id] = pr
	}
	r.progress[r.id].match = next - 1
	r.appendEntry(Entry{Type: EntryNoop})
}

// reset enters state with timers restarted and the per-role state
// dropped: votes, the leader's progress, its batched work, its pending
// reads (the clients of which will time out and try again).
func (r *Raft) reset(state State, leader uint64) {
	r.state, r.leader = state, leader
	r.electionElapsed, r.heartbeatElapsed = 0, 0
	r.randomizedTimeout = r.electionTimeout + r.rand.IntN(r.electionTimeout)
	r.votes, r.progress = nil, nil
	r.appendPending, r.commitPending = false, false
	r.transferee = None
	r.reads = nil
}

// hup starts an election, with a pre-vote round first if configured and
// this is not a leadership transfer. A leader does not campaign.
func (r *Raft) hup(transfer bool) {
	if r.state == Leader {
		return
	}
	if r.preVote && !transfer {
		r.campaign(PreVote, false)
	} else {
		r.campaign(RequestVote, transfer)
	}
}

// Campaign makes the server start an election now, as if its election
// timeout had elapsed. It is for tests and for bringing up a cluster
// quickly; a leader ignores it.
func (r *Raft) Campaign() { r.hup(false) }

// campaign becomes a (pre-)candidate and asks every other server for its
// vote (Figure 2, candidates: "send RequestVote RPCs to all other
// servers").
func (r *Raft) campaign(t MessageType, transfer bool) {
	var term uint64
	if t == PreVote {
		r.becomePreCandidate()
		term = r.term + 1 // the term it would campaign at; its own stays
	} else {
		r.becomeCandidate()
		term = r.term
	}
	state := r.state
	if r.poll(r.id, true); r.state != state {
		return // a cluster of one: won already
	}
	for _, id := range r.peers {
		if id != r.id {
			r.send(Message{To: id, Type: t, Term: term, Transfer: transfer,
				LastLogIndex: r.log.lastIndex(), LastLogTerm: r.log.lastTerm()})
		}
	}
}

// poll records a vote, and ends the (pre-)election once its outcome is
// certain: a majority for (Figure 2: "if votes received from majority of
// servers: become leader"), or enough against that a majority is out of
// reach (then wait, as a follower, for a leader or the next timeout).
func (r *Raft) poll(from uint64, granted bool) {
	r.votes[from] = granted
	yes, no := 0, 0
	for _, v := range r.votes {
		if v {
			yes++
		} else {
			no++
		}
	}
	switch {
	case yes >= r.quorum() && r.state == PreCandidate:
		r.campaign(RequestVote, false)
	case yes >= r.quorum():
		r.becomeLeader()
	case no > len(r.peers)-r.quorum():
		r.becomeFollower(r.term, None)
	}
}

// handleVoteRequest is the receiver's side of RequestVote (Figure 2): the
// vote goes to the first candidate to ask in a term (votedFor is null or
// candidateId) whose log is at least as up-to-date as the receiver's
// (§5.4.1). A pre-vote is granted on the same log condition to a
// candidate whose term would be new; it changes nothing here.
func (r *Raft) handleVoteRequest(m Message) {
	upToDate := r.log.isUpToDate(m.LastLogIndex, m.LastLogTerm)
	reply := Message{To: m.From, Type: RequestVoteReply}
	if m.Type == PreVote {
		reply.Type = PreVoteReply
		reply.VoteGranted = upToDate && m.Term > r.term
		if reply.VoteGranted {
			reply.Term = m.Term // so the pre-candidate does not take it for a stale reply
		}
		r.send(reply)
		return
	}
	if upToDate && (r.votedFor == None || r.votedFor == m.From) {
		reply.VoteGranted = true
		r.votedFor = m.From
		r.electionElapsed = 0 // Figure 2, followers: "granting vote to candidate" resets the timer
	}
	r.send(reply)
}

// inLease reports whether m is a vote request to ignore because this
// server has heard from a leader within the last election timeout (§6:
// "if a server receives a RequestVote request within the minimum election
// timeout of hearing from a current leader, it does not update its term
// or grant its vote"). Pre-votes always get this check; real votes only
// with CheckQuorum (which makes leaders that lose their majority step
// down, so that the check cannot keep a dead leader's cluster leaderless);
// a leadership transfer's votes never do.
func (r *Raft) inLease(m Message) bool {
	switch {
	case m.Type == PreVote:
	case m.Type == RequestVote && r.checkQuorum && !m.Transfer:
	default:
		return false
	}
	return r.leader != None && r.electionElapsed < r.electionTimeout
}
