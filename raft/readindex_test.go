package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Thesis §6.4: the leader records its commit index as the read index,
// then "sends a new round of heartbeats and waits for their
// acknowledgments from a majority of the cluster"; only then is the read
// index safe to serve.
func TestReadIndexIsConfirmedByAMajorityRound(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	nw.propose(1, "a")
	r := nw.rafts[1]
	require.NoError(t, r.ReadIndex(7))
	msgs := nw.take(1)
	require.Len(t, msgs, 2, "a heartbeat round")
	assert.Empty(t, nw.reads[1], "not confirmed before anyone answers")

	require.NoError(t, nw.rafts[2].Step(msgs[0]))
	require.NoError(t, r.Step(nw.take(2)[0]))
	nw.ready(1)
	assert.Equal(t, []ReadState{{ID: 7, Index: 2}}, nw.reads[1], "the leader and one follower are a majority")
}

// Thesis §6.4: "If the leader has not yet marked an entry from its current
// term committed, it waits until it has done so." Its commit index might
// be behind its predecessor's until then.
func TestReadIndexWaitsForTheLeadersFirstCommit(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.filter = func(m Message) bool { return m.Type != AppendEntriesReply }
	nw.elect(1)
	r := nw.rafts[1]
	require.Equal(t, uint64(0), r.log.committed, "the no-op is not committed")
	require.NoError(t, r.ReadIndex(1))
	nw.tickAll(3)
	assert.Empty(t, nw.reads[1])

	nw.filter = nil
	nw.tickAll(1)
	assert.Equal(t, []ReadState{{ID: 1, Index: 1}}, nw.reads[1])
}

// A leader cut off from the majority cannot confirm a read: a newer leader
// may exist and have committed writes it has not seen.
func TestReadIndexIsNotConfirmedWithoutAMajority(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	nw.isolate(1)
	require.NoError(t, nw.rafts[1].ReadIndex(1))
	nw.tick(1, 20)
	assert.Empty(t, nw.reads[1])
}

// A follower asks the leader for a read index on its client's behalf.
func TestFollowerGetsAReadIndexFromTheLeader(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	nw.propose(1, "a")
	require.NoError(t, nw.rafts[2].ReadIndex(9))
	nw.deliver()
	assert.Equal(t, []ReadState{{ID: 9, Index: 2}}, nw.reads[2])
	assert.Empty(t, nw.reads[1])
}

// A follower that knows no leader cannot ask one.
func TestReadIndexWithoutALeaderFails(t *testing.T) {
	nw := newNetwork(t, 3)
	require.ErrorIs(t, nw.rafts[2].ReadIndex(1), ErrNotLeader)
}

// A cluster of one is its own majority: the read is confirmed at once.
func TestReadIndexOnASingleServer(t *testing.T) {
	nw := newNetwork(t, 1)
	nw.elect(1)
	require.NoError(t, nw.rafts[1].ReadIndex(3))
	nw.ready(1)
	assert.Equal(t, []ReadState{{ID: 3, Index: 1}}, nw.reads[1])
}

// Reads that arrive together share one heartbeat round, and are answered
// in order.
func TestReadsShareAHeartbeatRound(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	r := nw.rafts[1]
	for id := uint64(1); id <= 5; id++ {
		require.NoError(t, r.ReadIndex(id))
	}
	assert.Len(t, nw.take(1), 2, "one heartbeat per follower for five reads")
	require.NoError(t, r.ReadIndex(6))
	nw.deliver()
	require.Len(t, nw.reads[1], 6)
	for i, rs := range nw.reads[1] {
		assert.Equal(t, uint64(i+1), rs.ID)
	}
}
