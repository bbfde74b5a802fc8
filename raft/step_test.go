package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A peer's bad message is dropped with an error and counted; it never
// panics and never changes the server.
func TestStepDropsInvalidMessages(t *testing.T) {
	tests := []struct {
		name string
		give Message
	}{
		{"no type", Message{From: 2, To: 1, Term: 1}},
		{"unknown type", Message{Type: 99, From: 2, To: 1, Term: 1}},
		{"not for us", Message{Type: AppendEntries, From: 2, To: 3, Term: 1}},
		{"from a stranger", Message{Type: AppendEntries, From: 7, To: 1, Term: 1}},
		{"from ourselves", Message{Type: RequestVote, From: 1, To: 1, Term: 1}},
		{"no term", Message{Type: RequestVote, From: 2, To: 1}},
		{"entries out of place", Message{Type: AppendEntries, From: 2, To: 1, Term: 1,
			Entries: []Entry{{Index: 2, Term: 1}}}},
		{"entries not consecutive", Message{Type: AppendEntries, From: 2, To: 1, Term: 1,
			Entries: []Entry{{Index: 1, Term: 1}, {Index: 3, Term: 1}}}},
		{"entry from the future", Message{Type: AppendEntries, From: 2, To: 1, Term: 1,
			Entries: []Entry{{Index: 1, Term: 2}}}},
		{"terms going down", Message{Type: AppendEntries, From: 2, To: 1, Term: 3,
			Entries: []Entry{{Index: 1, Term: 2}, {Index: 2, Term: 1}}}},
		{"entry of unknown type", Message{Type: AppendEntries, From: 2, To: 1, Term: 1,
			Entries: []Entry{{Index: 1, Term: 1, Type: 9}}}},
		{"previous entry from the future", Message{Type: AppendEntries, From: 2, To: 1, Term: 1, PrevLogIndex: 1, PrevLogTerm: 2}},
		{"term for index 0", Message{Type: AppendEntries, From: 2, To: 1, Term: 1, PrevLogTerm: 1}},
		{"index overflow", Message{Type: AppendEntries, From: 2, To: 1, Term: 1, PrevLogIndex: ^uint64(0), PrevLogTerm: 1,
			Entries: []Entry{{Index: 0, Term: 1}}}},
		{"empty snapshot", Message{Type: InstallSnapshot, From: 2, To: 1, Term: 1}},
		{"snapshot from the future", Message{Type: InstallSnapshot, From: 2, To: 1, Term: 1, Snapshot: Snapshot{Index: 5, Term: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nw := newNetwork(t, 3)
			r := nw.rafts[1]
			before := r.Status()
			err := r.Step(tt.give)
			require.ErrorIs(t, err, ErrInvalidMessage)
			after := r.Status()
			assert.Equal(t, uint64(1), after.Counters.InvalidMessages)
			after.Counters = before.Counters
			assert.Equal(t, before, after)
			assert.False(t, r.HasReady())
		})
	}
}

// Committed entries are never overwritten: an AppendEntries that starts
// below the commit index (a delayed one, or a faulty leader's) changes
// nothing there, and the reply says how far the log is committed.
func TestFollowerNeverOverwritesCommittedEntries(t *testing.T) {
	nw := newNetwork(t, 3)
	saveTerms(t, nw.storage[1], 2, []uint64{1, 2, 2})
	require.NoError(t, nw.storage[1].Save(HardState{Term: 2, Commit: 3}, nil))
	r := nw.start(1)
	require.NoError(t, r.Step(Message{Type: AppendEntries, From: 2, To: 1, Term: 3, PrevLogIndex: 1, PrevLogTerm: 1,
		Entries: []Entry{{Index: 2, Term: 3}, {Index: 3, Term: 3}}}))
	assert.Equal(t, []uint64{1, 2, 2}, logOf(r))
	msgs := nw.take(1)
	require.Len(t, msgs, 1)
	assert.True(t, msgs[0].Success)
	assert.Equal(t, uint64(3), msgs[0].MatchIndex)
}

func TestNewRaftRejectsABadConfig(t *testing.T) {
	s := NewMemoryStorage()
	tests := []struct {
		name string
		give Config
	}{
		{"no ID", Config{Peers: []uint64{1}, Storage: s}},
		{"no storage", Config{ID: 1, Peers: []uint64{1}}},
		{"not a peer", Config{ID: 1, Peers: []uint64{2, 3}, Storage: s}},
		{"None a peer", Config{ID: 1, Peers: []uint64{0, 1}, Storage: s}},
		{"duplicate peer", Config{ID: 1, Peers: []uint64{1, 2, 2}, Storage: s}},
		{"heartbeat too slow", Config{ID: 1, Peers: []uint64{1}, Storage: s, ElectionTick: 5, HeartbeatTick: 5}},
		{"negative", Config{ID: 1, Peers: []uint64{1}, Storage: s, ElectionTick: -1}},
		{"negative inflight", Config{ID: 1, Peers: []uint64{1}, Storage: s, MaxInflight: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewRaft(tt.give)
			require.ErrorIs(t, err, ErrInvalidConfig)
		})
	}
}

func TestNewRaftRejectsStorageThatContradictsItself(t *testing.T) {
	s := NewMemoryStorage()
	require.NoError(t, s.Save(HardState{Term: 1, Commit: 5}, []Entry{{Index: 1, Term: 1}}))
	_, err := NewRaft(Config{ID: 1, Peers: []uint64{1}, Storage: s})
	require.ErrorIs(t, err, ErrInvalidConfig, "commit index beyond the log")

	s = NewMemoryStorage()
	require.NoError(t, s.Save(HardState{Term: 1, VotedFor: 9}, nil))
	_, err = NewRaft(Config{ID: 1, Peers: []uint64{1}, Storage: s})
	require.ErrorIs(t, err, ErrInvalidConfig, "a vote for a stranger")
}

// Figure 2: a server must make its vote durable before the vote leaves
// it. The Ready that carries a vote request also carries the hard state
// with the vote, for the caller to save before it sends.
func TestReadyCarriesTheVoteWithTheVoteRequests(t *testing.T) {
	nw := newNetwork(t, 3)
	r := nw.rafts[1]
	r.Campaign()
	rd := r.Ready()
	assert.Equal(t, HardState{Term: 1, VotedFor: 1}, rd.HardState)
	assert.Len(t, messagesOfType(rd.Messages, RequestVote), 2)
	r.Advance(rd)
	assert.False(t, r.HasReady())

	require.NoError(t, nw.rafts[2].Step(rd.Messages[0]))
	rd = nw.rafts[2].Ready()
	assert.Equal(t, HardState{Term: 1, VotedFor: 1}, rd.HardState, "the voter's vote, saved before its reply goes")
	assert.True(t, rd.Messages[0].VoteGranted)
}
