package raft

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// §7: "the leader must occasionally send snapshots to followers that lag
// behind. This happens when the leader has already discarded the next log
// entry that it needs to send to a follower."
func TestLeaderSendsSnapshotToFollowerThatNeedsCompactedEntries(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	nw.isolate(3)
	for _, c := range []string{"a", "b", "c"} {
		nw.propose(1, c)
	}
	compact(t, nw, 1) // the leader discards entries 1 to 4
	first, _ := nw.storage[1].FirstIndex()
	require.Equal(t, uint64(5), first)

	nw.recover()
	nw.sent = nil
	nw.tickAll(1)
	snaps := messagesOfType(nw.sent, InstallSnapshot)
	require.Len(t, snaps, 1)
	assert.Equal(t, uint64(3), snaps[0].To)
	assert.Equal(t, Snapshot{Index: 4, Term: 1, Data: encodeApplied(nw.applied[1])}, snaps[0].Snapshot)
	assert.Equal(t, []string{"a", "b", "c"}, nw.commands(3), "the follower's state machine is the snapshot's")
	s3, _ := nw.storage[3].Snapshot()
	assert.Equal(t, uint64(4), s3.Index, "the follower saved it")

	nw.propose(1, "d")
	nw.tickAll(1)
	assert.Equal(t, []string{"a", "b", "c", "d"}, nw.commands(3), "replication resumes after the snapshot")
	assert.Equal(t, "replicate", nw.rafts[1].Status().Progress[3].State)
}

// Figure 13, rule 6: "If existing log entry has same index and term as
// snapshot's last included entry, retain log entries following it and
// reply."
func TestFollowerKeepsEntriesFollowingTheSnapshot(t *testing.T) {
	nw := newNetwork(t, 3)
	saveTerms(t, nw.storage[1], 2, []uint64{1, 1, 2, 2})
	r := nw.start(1)
	require.NoError(t, r.Step(Message{From: 2, To: 1, Type: InstallSnapshot, Term: 2, Snapshot: Snapshot{Index: 3, Term: 2}}))
	msgs := nw.take(1)
	require.Len(t, msgs, 1)
	assert.Equal(t, InstallSnapshotReply, msgs[0].Type)
	assert.Equal(t, uint64(3), msgs[0].MatchIndex)
	assert.Equal(t, []uint64{1, 1, 2, 2}, logOf(r), "no entry discarded, no snapshot installed")
	assert.Equal(t, uint64(3), r.log.committed, "but what the snapshot covers is committed")
}

// Figure 13, rule 7: "Discard the entire log. Reset state machine using
// snapshot contents."
func TestFollowerInstallsSnapshotAndDiscardsItsLog(t *testing.T) {
	nw := newNetwork(t, 3)
	saveTerms(t, nw.storage[1], 3, []uint64{1, 1, 2, 2, 2})
	r := nw.start(1)
	snap := Snapshot{Index: 4, Term: 3, Data: []byte("state")}
	require.NoError(t, r.Step(Message{From: 2, To: 1, Type: InstallSnapshot, Term: 3, Snapshot: snap}))
	rd := r.Ready()
	assert.Equal(t, snap, rd.Snapshot)
	assert.Empty(t, rd.CommittedEntries, "the snapshot replaces the entries it covers")
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, uint64(4), rd.Messages[0].MatchIndex)
	require.NoError(t, nw.storage[1].SaveSnapshot(rd.Snapshot))
	require.NoError(t, nw.storage[1].Save(rd.HardState, rd.Entries))
	r.Advance(rd)
	assert.Equal(t, uint64(4), r.log.lastIndex())
	assert.Equal(t, uint64(5), r.log.firstIndex())
	assert.Equal(t, Status{Commit: 4, Applied: 4}, Status{Commit: r.Status().Commit, Applied: r.Status().Applied})
	last, _ := nw.storage[1].LastIndex()
	assert.Equal(t, uint64(4), last, "the conflicting entry 5 is gone from storage too")
}

// A snapshot that covers only committed entries is old news: nothing
// changes, and the reply says how far the follower's log is committed.
func TestFollowerIgnoresSnapshotOfCommittedEntries(t *testing.T) {
	nw := newNetwork(t, 3)
	saveTerms(t, nw.storage[1], 2, []uint64{1, 1, 2, 2})
	require.NoError(t, nw.storage[1].Save(HardState{Term: 2, Commit: 4}, nil))
	r := nw.start(1)
	require.NoError(t, r.Step(Message{From: 2, To: 1, Type: InstallSnapshot, Term: 2, Snapshot: Snapshot{Index: 3, Term: 2}}))
	msgs := nw.take(1)
	require.Len(t, msgs, 1)
	assert.Equal(t, uint64(4), msgs[0].MatchIndex)
	assert.Nil(t, r.log.unstable.snapshot)
}

// NewSnapshot refuses an index not applied yet, or already covered.
func TestNewSnapshotChecksTheIndex(t *testing.T) {
	nw := newNetwork(t, 1)
	nw.elect(1)
	nw.propose(1, "a")
	r := nw.rafts[1]
	_, err := r.NewSnapshot(3, nil)
	require.ErrorIs(t, err, ErrSnapshotIndex)
	s, err := r.NewSnapshot(2, []byte("x"))
	require.NoError(t, err)
	assert.Equal(t, Snapshot{Index: 2, Term: 1, Data: []byte("x")}, s)
	require.NoError(t, nw.storage[1].SaveSnapshot(s))
	_, err = r.NewSnapshot(2, nil)
	require.ErrorIs(t, err, ErrSnapshotOutOfDate)
}

// A server restarts from its storage: term, vote, log, snapshot and commit
// index are what it saved, and it applies the committed entries after the
// snapshot again (its state machine starts from the snapshot).
func TestServerRestartsFromWhatItSaved(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	for _, c := range []string{"a", "b", "c"} {
		nw.propose(1, c)
	}
	compact(t, nw, 2)
	nw.propose(1, "d")
	nw.tickAll(1)
	before := nw.rafts[2].Status()

	nw.crash(2)
	r := nw.start(2)
	after := r.Status()
	assert.Equal(t, [3]uint64{before.Term, before.VotedFor, before.LastIndex}, [3]uint64{after.Term, after.VotedFor, after.LastIndex})
	assert.Equal(t, before.Commit, after.Commit)
	assert.Equal(t, uint64(4), after.Applied, "the snapshot's entries count as applied")
	nw.ready(2)
	assert.Equal(t, []string{"d"}, nw.commands(2))
	assert.Equal(t, Follower, r.State())
}
