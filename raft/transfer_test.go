package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Thesis §3.10: the leader sends TimeoutNow to an up-to-date target, which
// starts an election at once and wins it.
func TestTransferLeadershipToAnUpToDateFollower(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	require.NoError(t, nw.rafts[1].TransferLeadership(2))
	nw.deliver()
	assert.Equal(t, uint64(2), nw.leader())
	assert.Equal(t, uint64(2), nw.rafts[2].Term())
	assert.Equal(t, Follower, nw.rafts[1].State())
	require.Len(t, messagesOfType(nw.sent, TimeoutNow), 1)
}

// Thesis §3.10: "the prior leader ... bring[s] the target server's log up
// to date" before it sends TimeoutNow.
func TestTransferToALaggingFollowerCatchesItUpFirst(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	nw.isolate(3)
	for _, c := range []string{"a", "b", "c"} {
		nw.propose(1, c)
	}
	nw.recover()
	require.NoError(t, nw.rafts[1].TransferLeadership(3))
	nw.deliver()
	assert.Equal(t, uint64(3), nw.leader())
	nw.tickAll(1)
	assert.Equal(t, []string{"a", "b", "c"}, nw.commands(3))
}

// Thesis §3.10: "the prior leader stops accepting new client requests"
// during the transfer; if it does not finish "after an election timeout,
// the prior leader aborts the transfer and resumes accepting client
// requests".
func TestTransferStopsProposalsUntilItIsAbandoned(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	nw.isolate(2)
	r := nw.rafts[1]
	require.NoError(t, r.TransferLeadership(2))
	_, _, err := r.Propose([]byte("x"))
	require.ErrorIs(t, err, ErrProposalDropped)
	assert.Equal(t, uint64(2), r.Transferee())

	nw.tick(1, r.electionTimeout)
	assert.Equal(t, None, r.Transferee())
	assert.Equal(t, Leader, r.State())
	_, _, err = r.Propose([]byte("x"))
	require.NoError(t, err)
}

// A transfer's votes are granted even by followers that heard from the
// leader within their lease: the leader itself asked for the election.
func TestTransferWinsDespiteTheLease(t *testing.T) {
	nw := newNetwork(t, 3, withCheckQuorum, withPreVote)
	nw.elect(1)
	require.NoError(t, nw.rafts[1].TransferLeadership(3))
	nw.deliver()
	assert.Equal(t, uint64(3), nw.leader())
}

func TestTransferLeadershipErrors(t *testing.T) {
	nw := newNetwork(t, 3)
	require.ErrorIs(t, nw.rafts[1].TransferLeadership(2), ErrNotLeader)
	nw.elect(1)
	require.ErrorIs(t, nw.rafts[1].TransferLeadership(9), ErrUnknownPeer)
	require.NoError(t, nw.rafts[1].TransferLeadership(1))
	assert.Equal(t, None, nw.rafts[1].Transferee(), "to itself: nothing to do")
}
