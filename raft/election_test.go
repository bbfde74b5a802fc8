package raft

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// §5.2: "When servers start up, they begin as followers."
func TestServersStartAsFollowers(t *testing.T) {
	nw := newNetwork(t, 3)
	for _, r := range nw.rafts {
		assert.Equal(t, Follower, r.State())
		assert.Equal(t, uint64(0), r.Term())
	}
}

// §5.1: "If one server's current term is smaller than the other's, then it
// updates its current term to the larger value. If a candidate or leader
// discovers that its term is out of date, it immediately reverts to
// follower state."
func TestServerUpdatesTermFromMessage(t *testing.T) {
	for _, state := range []State{Follower, PreCandidate, Candidate, Leader} {
		t.Run(state.String(), func(t *testing.T) {
			nw := newNetwork(t, 3, func(c *Config) { c.PreVote = true })
			r := nw.rafts[1]
			switch state {
			case PreCandidate:
				r.Campaign()
			case Candidate:
				r.campaign(RequestVote, false)
			case Leader:
				nw.elect(1)
			}
			require.Equal(t, state, r.State())
			require.NoError(t, r.Step(Message{From: 2, To: 1, Type: AppendEntries, Term: 5}))
			assert.Equal(t, uint64(5), r.Term())
			assert.Equal(t, Follower, r.State())
			assert.Equal(t, uint64(2), r.Leader(), "an AppendEntries comes from the leader of its term")
		})
	}
}

// §5.1: "If a server receives a request with a stale term number, it
// rejects the request."
func TestServerRejectsRequestWithStaleTerm(t *testing.T) {
	nw := newNetwork(t, 3)
	r := nw.rafts[1]
	r.becomeFollower(2, None)
	nw.take(1)
	require.NoError(t, r.Step(Message{From: 2, To: 1, Type: AppendEntries, Term: 1,
		Entries: []Entry{{Index: 1, Term: 1}}}))
	msgs := nw.take(1)
	require.Len(t, msgs, 1)
	assert.Equal(t, AppendEntriesReply, msgs[0].Type)
	assert.False(t, msgs[0].Success)
	assert.Equal(t, uint64(2), msgs[0].Term, "the reply tells the stale leader the current term")
	assert.Equal(t, uint64(0), r.log.lastIndex(), "nothing appended")
	assert.Equal(t, uint64(1), r.Status().Counters.StaleMessages)
}

// Figure 2, followers: "If election timeout elapses without receiving
// AppendEntries RPC from current leader or granting vote to candidate:
// convert to candidate." Candidates: "Increment currentTerm, Vote for
// self, Reset election timer, Send RequestVote RPCs to all other servers."
func TestFollowerStartsElectionAfterTimeout(t *testing.T) {
	nw := newNetwork(t, 3)
	r := nw.rafts[1]
	ticks := 0
	for ; r.State() == Follower; ticks++ {
		r.Tick()
	}
	assert.GreaterOrEqual(t, ticks, r.electionTimeout)
	assert.Less(t, ticks, 2*r.electionTimeout)
	assert.Equal(t, Candidate, r.State())
	assert.Equal(t, uint64(1), r.Term())
	assert.Equal(t, uint64(1), r.votedFor)
	msgs := nw.take(1)
	require.Len(t, msgs, 2)
	for i, m := range msgs {
		assert.Equal(t, RequestVote, m.Type)
		assert.Equal(t, uint64(i+2), m.To)
		assert.Equal(t, uint64(1), m.Term)
	}
	hs, _ := nw.storage[1].InitialState()
	assert.Equal(t, HardState{Term: 1, VotedFor: 1}, hs, "the vote was saved before the requests left")
}

// §5.2: "A candidate wins an election if it receives votes from a majority
// of the servers in the full cluster for the same term."
func TestCandidateWinsWithVotesFromAMajority(t *testing.T) {
	tests := []struct {
		size  int
		votes map[uint64]bool
		want  State
	}{
		{1, map[uint64]bool{}, Leader},
		{3, map[uint64]bool{2: true, 3: true}, Leader},
		{3, map[uint64]bool{2: true}, Leader},
		{5, map[uint64]bool{2: true, 3: true, 4: true, 5: true}, Leader},
		{5, map[uint64]bool{2: true, 3: true}, Leader},
		{3, map[uint64]bool{}, Candidate},
		{5, map[uint64]bool{2: true}, Candidate},
		{5, map[uint64]bool{2: false, 3: false}, Candidate},
		{3, map[uint64]bool{2: false, 3: false}, Follower}, // lost: a majority is out of reach
		{5, map[uint64]bool{2: false, 3: false, 4: false}, Follower},
	}
	for _, tt := range tests {
		nw := newNetwork(t, tt.size)
		r := nw.rafts[1]
		r.campaign(RequestVote, false)
		for id, granted := range tt.votes {
			require.NoError(t, r.Step(Message{From: id, To: 1, Type: RequestVoteReply, Term: 1, VoteGranted: granted}))
		}
		assert.Equal(t, tt.want, r.State(), "size %d votes %v", tt.size, tt.votes)
		assert.Equal(t, uint64(1), r.Term())
	}
}

// §5.2: "Each server will vote for at most one candidate in a given term,
// on a first-come-first-served basis."
func TestServerVotesForAtMostOneCandidatePerTerm(t *testing.T) {
	tests := []struct {
		votedFor, candidate uint64
		want                bool
	}{
		{None, 2, true},
		{None, 3, true},
		{2, 2, true}, // the same candidate asking again (its reply was lost)
		{3, 3, true},
		{2, 3, false},
		{3, 2, false},
	}
	for _, tt := range tests {
		nw := newNetwork(t, 3)
		r := nw.rafts[1]
		r.term, r.votedFor = 1, tt.votedFor
		require.NoError(t, r.Step(Message{From: tt.candidate, To: 1, Type: RequestVote, Term: 1}))
		msgs := nw.take(1)
		require.Len(t, msgs, 1)
		assert.Equal(t, tt.want, msgs[0].VoteGranted, "voted for %d, asked by %d", tt.votedFor, tt.candidate)
		if tt.want {
			assert.Equal(t, tt.candidate, r.votedFor)
		}
	}
}

// §5.4.1: "The voter denies its vote if its own log is more up-to-date
// than that of the candidate. ... If the logs have last entries with
// different terms, then the log with the later term is more up-to-date. If
// the logs end with the same term, then whichever log is longer is more
// up-to-date."
func TestVoterRejectsCandidateWithStaleLog(t *testing.T) {
	// The voter's log: terms 1, 2, 2 (last entry index 3, term 2).
	tests := []struct {
		lastIndex, lastTerm uint64
		want                bool
	}{
		{3, 2, true},  // the same log
		{4, 2, true},  // longer, same last term
		{1, 3, true},  // shorter, later last term
		{2, 2, false}, // shorter, same last term
		{9, 1, false}, // longer, earlier last term
		{0, 0, false}, // empty
	}
	for _, tt := range tests {
		nw := newNetwork(t, 3)
		require.NoError(t, nw.storage[1].Save(HardState{Term: 2}, []Entry{{Index: 1, Term: 1}, {Index: 2, Term: 2}, {Index: 3, Term: 2}}))
		r := nw.start(1)
		require.NoError(t, r.Step(Message{From: 2, To: 1, Type: RequestVote, Term: 3, LastLogIndex: tt.lastIndex, LastLogTerm: tt.lastTerm}))
		msgs := nw.take(1)
		require.Len(t, msgs, 1)
		assert.Equal(t, tt.want, msgs[0].VoteGranted, "candidate's last entry %d/%d", tt.lastIndex, tt.lastTerm)
		assert.Equal(t, uint64(3), r.Term(), "the term is adopted either way")
	}
}

// §5.2: "If the leader's term (included in its RPC) is at least as large as
// the candidate's current term, then the candidate recognizes the leader as
// legitimate and returns to follower state."
func TestCandidateFallsBackWhenItHearsFromALeaderOfItsTerm(t *testing.T) {
	nw := newNetwork(t, 3)
	r := nw.rafts[1]
	r.campaign(RequestVote, false)
	require.Equal(t, Candidate, r.State())
	require.NoError(t, r.Step(Message{From: 3, To: 1, Type: AppendEntries, Term: r.Term()}))
	assert.Equal(t, Follower, r.State())
	assert.Equal(t, uint64(3), r.Leader())
	assert.Equal(t, uint64(1), r.Term())
}

// §5.2: "If the term in the RPC is smaller than the candidate's current
// term, then the candidate rejects the RPC and continues in candidate
// state."
func TestCandidateRejectsALeaderOfAnOlderTerm(t *testing.T) {
	nw := newNetwork(t, 3)
	r := nw.rafts[1]
	r.campaign(RequestVote, false)
	r.campaign(RequestVote, false) // term 2
	require.NoError(t, r.Step(Message{From: 3, To: 1, Type: AppendEntries, Term: 1}))
	assert.Equal(t, Candidate, r.State())
}

// §5.2: "Raft uses randomized election timeouts to ensure that split
// votes are rare ... election timeouts are chosen randomly from a fixed
// interval."
func TestElectionTimeoutsAreRandomized(t *testing.T) {
	nw := newNetwork(t, 1)
	r := nw.rafts[1]
	seen := map[int]bool{}
	for range 1000 {
		r.becomeFollower(r.Term()+1, None)
		assert.GreaterOrEqual(t, r.randomizedTimeout, r.electionTimeout)
		assert.Less(t, r.randomizedTimeout, 2*r.electionTimeout)
		seen[r.randomizedTimeout] = true
	}
	assert.Len(t, seen, r.electionTimeout, "every timeout in [et, 2et) is drawn")
}

// The run is a function of the seed: the same seed gives the same
// election, tick for tick; servers given the same seed still draw
// different timeouts.
func TestSeedDeterminesTheElection(t *testing.T) {
	run := func(seed int64) (uint64, uint64, int) {
		nw := newNetwork(t, 5, func(c *Config) { c.Seed = seed })
		for ticks := 1; ; ticks++ {
			nw.tickAll(1)
			if l := nw.leader(); l != None {
				return l, nw.rafts[l].Term(), ticks
			}
		}
	}
	l1, t1, n1 := run(7)
	l2, t2, n2 := run(7)
	assert.Equal(t, [3]any{l1, t1, n1}, [3]any{l2, t2, n2})
	leaders := map[uint64]bool{}
	for seed := range int64(20) {
		l, _, _ := run(seed)
		leaders[l] = true
	}
	assert.Greater(t, len(leaders), 1, "different seeds elect different servers")
}

// Election Safety (Figure 3): "at most one leader can be elected in a
// given term", however the messages are lost.
func TestAtMostOneLeaderPerTerm(t *testing.T) {
	for seed := range uint64(20) {
		nw := newNetwork(t, 5, func(c *Config) { c.Seed = int64(seed) })
		nw.rand = rand.New(rand.NewPCG(seed, seed))
		nw.dropRate = 0.3
		leaders := map[uint64]uint64{} // term -> leader
		for range 300 {
			nw.tickAll(1)
			for id, r := range nw.rafts {
				if r.State() != Leader {
					continue
				}
				if l, ok := leaders[r.Term()]; ok {
					require.Equal(t, l, id, "two leaders in term %d (seed %d)", r.Term(), seed)
				}
				leaders[r.Term()] = id
			}
		}
		require.NotEmpty(t, leaders, "seed %d: no leader despite 70%% delivery", seed)
	}
}
