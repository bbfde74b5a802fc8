package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Proposals made between two Readys go out together: one AppendEntries
// per follower, not one per proposal.
func TestProposalsAreBatchedIntoOneAppendEntries(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	r := nw.rafts[1]
	for range 100 {
		_, _, err := r.Propose([]byte("x"))
		require.NoError(t, err)
	}
	msgs := messagesOfType(nw.take(1), AppendEntries)
	require.Len(t, msgs, 2)
	for _, m := range msgs {
		assert.Len(t, m.Entries, 100)
	}
}

// MaxMsgBytes bounds the data of one AppendEntries; a larger backlog goes
// in several.
func TestMaxMsgBytesSplitsEntries(t *testing.T) {
	nw := newNetwork(t, 2, func(c *Config) { c.MaxMsgBytes = 1000 })
	nw.elect(1)
	r := nw.rafts[1]
	for range 10 {
		_, _, err := r.Propose(make([]byte, 300))
		require.NoError(t, err)
	}
	msgs := messagesOfType(nw.take(1), AppendEntries)
	require.Len(t, msgs, 4, "3+3+3+1 entries of 300 bytes")
	for i, m := range msgs[:3] {
		assert.Len(t, m.Entries, 3, "message %d", i)
	}
	assert.Len(t, msgs[3].Entries, 1)
	big, _, err := r.Propose(make([]byte, 5000))
	require.NoError(t, err)
	msgs = messagesOfType(nw.take(1), AppendEntries)
	require.Len(t, msgs, 1, "an entry larger than MaxMsgBytes still goes, alone")
	assert.Equal(t, big, msgs[0].Entries[0].Index)
}

// A replicating leader streams AppendEntries without waiting for replies,
// up to MaxInflight unanswered per follower; each reply frees room.
func TestLeaderPipelinesUpToMaxInflight(t *testing.T) {
	nw := newNetwork(t, 2, func(c *Config) { c.MaxInflight = 3; c.MaxMsgBytes = 1 })
	nw.elect(1)
	r := nw.rafts[1]
	require.Equal(t, "replicate", r.Status().Progress[2].State)
	for range 5 {
		_, _, err := r.Propose([]byte("x"))
		require.NoError(t, err)
	}
	msgs := messagesOfType(nw.take(1), AppendEntries)
	require.Len(t, msgs, 3, "three in flight, two waiting")
	assert.Equal(t, 3, r.Status().Progress[2].Inflight)

	// The follower answers the first; one more goes out.
	require.NoError(t, nw.rafts[2].Step(msgs[0]))
	replies := nw.take(2)
	require.NoError(t, r.Step(replies[0]))
	more := messagesOfType(nw.take(1), AppendEntries)
	require.Len(t, more, 1)
	assert.Equal(t, msgs[2].Entries[0].Index+1, more[0].Entries[0].Index)
}

// A probing leader (one that does not know where a follower's log ends)
// sends one AppendEntries and waits for its answer or the next heartbeat
// before sending another.
func TestProbingLeaderSendsOneMessageAtATime(t *testing.T) {
	nw := newNetwork(t, 2)
	r := nw.rafts[1]
	// Elected with server 2's vote, but its AppendEntries replies are lost.
	nw.filter = func(m Message) bool { return m.Type != AppendEntriesReply }
	nw.elect(1)
	require.Equal(t, "probe", r.Status().Progress[2].State)
	for range 3 {
		_, _, err := r.Propose([]byte("x"))
		require.NoError(t, err)
	}
	assert.Empty(t, messagesOfType(nw.take(1), AppendEntries), "the first probe is unanswered")
	r.Tick() // a heartbeat
	assert.Len(t, messagesOfType(nw.take(1), AppendEntries), 1, "only the heartbeat")
}

// Figure 2, leaders: "send initial empty AppendEntries RPCs (heartbeat) to
// each server; repeat during idle periods to prevent election timeouts."
func TestLeaderSendsHeartbeatsEveryHeartbeatTick(t *testing.T) {
	nw := newNetwork(t, 3, func(c *Config) { c.HeartbeatTick = 3 })
	nw.elect(1)
	r := nw.rafts[1]
	nw.take(1)
	for tick := 1; tick <= 9; tick++ {
		r.Tick()
		msgs := nw.take(1)
		if tick%3 != 0 {
			assert.Empty(t, msgs, "tick %d", tick)
			continue
		}
		require.Len(t, msgs, 2, "tick %d", tick)
		for _, m := range msgs {
			assert.Equal(t, AppendEntries, m.Type)
			assert.Empty(t, m.Entries)
		}
	}
	nw.tickAll(100)
	assert.Equal(t, uint64(1), nw.leader(), "followers that hear heartbeats never time out")
	assert.Equal(t, uint64(1), r.Term())
}
