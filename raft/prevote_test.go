package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func withPreVote(c *Config)     { c.PreVote = true }
func withCheckQuorum(c *Config) { c.CheckQuorum = true }

// Without PreVote, a server cut off from the others keeps timing out and
// raising its term; when it comes back, its higher term deposes the
// leader, for nothing.
func TestWithoutPreVoteARejoiningServerDeposesTheLeader(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	nw.isolate(3)
	nw.tick(3, 100)
	require.Greater(t, nw.rafts[3].Term(), uint64(3))
	nw.recover()
	nw.tickAll(1)
	assert.Greater(t, nw.rafts[1].Term(), uint64(1), "the leader adopted the higher term")
	assert.NotEqual(t, Leader, nw.rafts[1].State(), "and stepped down")
}

// Thesis §9.6: with PreVote, "a candidate would first ask other servers
// whether its log was up-to-date enough to get their vote. Only if the
// candidate believed it could get votes from a majority of the cluster
// would it increment its term and start a normal election." The cut-off
// server never wins a pre-vote, so its term stays, and its return
// disturbs nobody.
func TestPreVoteKeepsAPartitionedServerFromRaisingItsTerm(t *testing.T) {
	nw := newNetwork(t, 3, withPreVote)
	nw.elect(1)
	nw.isolate(3)
	nw.tick(3, 50)
	assert.Equal(t, uint64(1), nw.rafts[3].Term())
	assert.Equal(t, PreCandidate, nw.rafts[3].State())
	nw.recover()
	nw.tickAll(1)
	assert.Equal(t, uint64(1), nw.leader())
	for id, r := range nw.rafts {
		assert.Equal(t, uint64(1), r.Term(), "server %d", id)
	}
	assert.Equal(t, Follower, nw.rafts[3].State(), "it follows the leader again")
}

// A pre-vote changes nobody's term or vote: the voter only says whether
// it would grant a vote.
func TestPreVoteChangesNothingAtTheVoter(t *testing.T) {
	nw := newNetwork(t, 3, withPreVote)
	r := nw.rafts[2]
	require.NoError(t, r.Step(Message{From: 1, To: 2, Type: PreVote, Term: 1}))
	msgs := nw.take(2)
	require.Len(t, msgs, 1)
	assert.Equal(t, PreVoteReply, msgs[0].Type)
	assert.True(t, msgs[0].VoteGranted)
	assert.Equal(t, uint64(1), msgs[0].Term, "the reply names the term the candidate would run in")
	assert.Equal(t, [2]uint64{0, None}, [2]uint64{r.Term(), r.votedFor})
}

// With PreVote, a dead leader is still replaced, and the election costs
// one term, not one per timed-out server.
func TestPreVoteElectsANewLeaderWhenTheLeaderDies(t *testing.T) {
	nw := newNetwork(t, 5, withPreVote)
	nw.elect(1)
	nw.crash(1)
	nw.tickAll(3 * nw.rafts[2].electionTimeout)
	l := nw.leader()
	require.NotEqual(t, None, l)
	assert.Equal(t, uint64(2), nw.rafts[l].Term())
}

// CheckQuorum: a leader that has not heard from a majority within an
// election timeout steps down (it cannot commit anything anyway, and
// clients should go elsewhere).
func TestCheckQuorumLeaderStepsDownWithoutAMajority(t *testing.T) {
	nw := newNetwork(t, 3, withCheckQuorum)
	nw.elect(1)
	nw.isolate(1)
	r := nw.rafts[1]
	for range 2 * r.electionTimeout {
		r.Tick()
	}
	assert.Equal(t, Follower, r.State())
	assert.Equal(t, uint64(1), r.Term(), "stepping down does not need a new term")
}

// Without CheckQuorum, a cut-off leader believes it leads forever.
func TestWithoutCheckQuorumACutOffLeaderStaysLeader(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	nw.isolate(1)
	nw.tick(1, 10*nw.rafts[1].electionTimeout)
	assert.Equal(t, Leader, nw.rafts[1].State())
}

// §6: "if a server receives a RequestVote request within the minimum
// election timeout of hearing from a current leader, it does not update
// its term or grant its vote." (With CheckQuorum.)
func TestFollowerIgnoresVotesWhileItHearsFromALeader(t *testing.T) {
	nw := newNetwork(t, 3, withCheckQuorum)
	nw.elect(1)
	r := nw.rafts[2]
	require.NoError(t, r.Step(Message{From: 3, To: 2, Type: RequestVote, Term: 2, LastLogIndex: 9, LastLogTerm: 1}))
	assert.Empty(t, nw.take(2), "no answer")
	assert.Equal(t, uint64(1), r.Term())
	assert.Equal(t, uint64(1), r.Status().Counters.IgnoredVotes)

	for range r.electionTimeout {
		r.Tick() // an election timeout without the leader
	}
	require.NoError(t, r.Step(Message{From: 3, To: 2, Type: RequestVote, Term: 2, LastLogIndex: 9, LastLogTerm: 1}))
	msgs := nw.take(2)
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].VoteGranted, "the lease is over")
}

// With CheckQuorum and no PreVote, a server cut off for long enough has a
// term above everyone's, and the lease makes the others ignore its
// RequestVotes. It is not stuck: its refusal of the leader's heartbeat
// (a stale term) makes the leader step down, and a new election in a new
// term brings everyone together.
func TestCandidateWithAHigherTermRejoinsWithCheckQuorum(t *testing.T) {
	nw := newNetwork(t, 3, withCheckQuorum)
	nw.elect(1)
	nw.isolate(3)
	nw.tick(3, 50)
	high := nw.rafts[3].Term()
	require.Greater(t, high, uint64(2))
	nw.recover()
	nw.tickAll(5 * nw.rafts[1].electionTimeout)
	l := nw.leader()
	require.NotEqual(t, None, l)
	for id, r := range nw.rafts {
		assert.GreaterOrEqual(t, r.Term(), high, "server %d", id)
		assert.Equal(t, l, r.Leader(), "server %d", id)
	}
}
