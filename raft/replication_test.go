package raft

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// §8: a leader "commit[s] a blank no-op entry into the log at the start of
// its term".
func TestLeaderAppendsNoopWhenElected(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	ents, err := nw.rafts[1].log.slice(1, 2, noLimit)
	require.NoError(t, err)
	assert.Equal(t, []Entry{{Index: 1, Term: 1, Type: EntryNoop}}, ents)
	for id, r := range nw.rafts {
		assert.Equal(t, uint64(1), r.log.committed, "server %d", id)
	}
	assert.Empty(t, nw.applied[2], "a no-op is not applied as a command")
}

// §5.3: "The leader appends the command to its log as a new entry, then
// issues AppendEntries RPCs in parallel to each of the other servers to
// replicate the entry."
func TestLeaderSendsNewEntriesToEveryFollower(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	r := nw.rafts[1]
	i, term, err := r.Propose([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, [2]uint64{2, 1}, [2]uint64{i, term})
	msgs := messagesOfType(nw.take(1), AppendEntries)
	require.Len(t, msgs, 2)
	for k, m := range msgs {
		assert.Equal(t, uint64(k+2), m.To)
		assert.Equal(t, []Entry{{Index: 2, Term: 1, Data: []byte("x")}}, m.Entries)
		assert.Equal(t, [2]uint64{1, 1}, [2]uint64{m.PrevLogIndex, m.PrevLogTerm})
		assert.Equal(t, uint64(1), m.LeaderCommit)
	}
}

// §5.3: "A log entry is committed once the leader that created the entry
// has replicated it on a majority of the servers."
func TestLeaderCommitsEntryOnceAMajorityHasIt(t *testing.T) {
	tests := []struct {
		size, acks int // acks: followers that answer
		want       bool
	}{
		{1, 0, true},
		{3, 0, false},
		{3, 1, true},
		{3, 2, true},
		{5, 1, false},
		{5, 2, true},
		{4, 1, false}, // 2 of 4 is not a majority
		{4, 2, true},
	}
	for _, tt := range tests {
		nw := newNetwork(t, tt.size)
		nw.elect(1)
		nw.filter = func(m Message) bool { return m.Type != AppendEntriesReply || m.From <= uint64(1+tt.acks) }
		i := nw.propose(1, "x")
		assert.Equal(t, tt.want, nw.rafts[1].log.committed >= i, "size %d, %d acks", tt.size, tt.acks)
	}
}

// §5.3: "This also commits all preceding entries in the leader's log,
// including entries created by previous leaders."
func TestLeaderCommitsPrecedingEntries(t *testing.T) {
	nw := newNetwork(t, 3)
	// A previous leader (term 2) left entries 1 to 3 on servers 1 and 2,
	// uncommitted.
	old := []Entry{{Index: 1, Term: 1, Type: EntryNoop}, {Index: 2, Term: 2, Data: []byte("a")}, {Index: 3, Term: 2, Data: []byte("b")}}
	for _, id := range []uint64{1, 2} {
		require.NoError(t, nw.storage[id].Save(HardState{Term: 2}, old))
		nw.start(id)
	}
	nw.elect(1)
	assert.Equal(t, uint64(4), nw.rafts[1].log.committed, "the no-op of term 3, and everything before it")
	assert.Equal(t, []string{"a", "b"}, nw.commands(1))
}

// §5.3: "Once a follower learns that a log entry is committed, it applies
// the entry to its local state machine (in log order)."
func TestFollowerAppliesCommittedEntriesInLogOrder(t *testing.T) {
	nw := newNetwork(t, 3)
	nw.elect(1)
	for _, c := range []string{"a", "b", "c"} {
		nw.propose(1, c)
	}
	nw.tickAll(1) // a heartbeat carries the last commit index
	for id := range nw.rafts {
		assert.Equal(t, []string{"a", "b", "c"}, nw.commands(id), "server %d", id)
	}
}

// §5.3: "If the follower does not find an entry in its log with the same
// index and term, then it refuses the new entries."
func TestFollowerRefusesEntriesWhosePredecessorDoesNotMatch(t *testing.T) {
	stored := []Entry{{Index: 1, Term: 1}, {Index: 2, Term: 2}}
	tests := []struct {
		prevIndex, prevTerm uint64
		want                bool
		conflict            [2]uint64 // the hint: ConflictIndex, ConflictTerm
	}{
		{0, 0, true, [2]uint64{}},
		{1, 1, true, [2]uint64{}},
		{2, 2, true, [2]uint64{}},
		{2, 3, false, [2]uint64{2, 2}}, // a different term there: skip term 2
		{3, 3, false, [2]uint64{3, 0}}, // beyond the end: start at 3
		{5, 3, false, [2]uint64{3, 0}},
	}
	for _, tt := range tests {
		nw := newNetwork(t, 3)
		require.NoError(t, nw.storage[1].Save(HardState{Term: 3}, stored))
		r := nw.start(1)
		require.NoError(t, r.Step(Message{From: 2, To: 1, Type: AppendEntries, Term: 3, PrevLogIndex: tt.prevIndex, PrevLogTerm: tt.prevTerm,
			Entries: []Entry{{Index: tt.prevIndex + 1, Term: 3}}}))
		msgs := nw.take(1)
		require.Len(t, msgs, 1)
		m := msgs[0]
		assert.Equal(t, tt.want, m.Success, "prev %d/%d", tt.prevIndex, tt.prevTerm)
		if tt.want {
			assert.Equal(t, tt.prevIndex+1, m.MatchIndex)
		} else {
			assert.Equal(t, tt.conflict, [2]uint64{m.ConflictIndex, m.ConflictTerm}, "prev %d/%d", tt.prevIndex, tt.prevTerm)
			assert.Equal(t, []uint64{1, 2}, logOf(r), "a refusal changes nothing")
		}
	}
}

// Figure 2, AppendEntries rule 3: "If an existing entry conflicts with a
// new one (same index but different terms), delete the existing entry and
// all that follow it." Rule 4: "Append any new entries not already in the
// log."
func TestFollowerDeletesConflictingEntries(t *testing.T) {
	stored := []Entry{{Index: 1, Term: 1}, {Index: 2, Term: 2}, {Index: 3, Term: 2}}
	tests := []struct {
		name string
		ents []Entry // after entry 1
		want []uint64
	}{
		{"conflict at 2", []Entry{{Index: 2, Term: 3}}, []uint64{1, 3}},
		{"conflict at 3", []Entry{{Index: 2, Term: 2}, {Index: 3, Term: 3}, {Index: 4, Term: 3}}, []uint64{1, 2, 3, 3}},
		{"new entries", []Entry{{Index: 2, Term: 2}, {Index: 3, Term: 2}, {Index: 4, Term: 3}}, []uint64{1, 2, 2, 3}},
		// A delayed AppendEntries holding entries already in the log must
		// not cut off those after them.
		{"no conflict", []Entry{{Index: 2, Term: 2}}, []uint64{1, 2, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nw := newNetwork(t, 3)
			require.NoError(t, nw.storage[1].Save(HardState{Term: 3}, stored))
			r := nw.start(1)
			require.NoError(t, r.Step(Message{From: 2, To: 1, Type: AppendEntries, Term: 3, PrevLogIndex: 1, PrevLogTerm: 1, Entries: tt.ents}))
			nw.take(1)
			assert.Equal(t, tt.want, logOf(r))
			got, err := nw.storage[1].Entries(1, r.log.lastIndex()+1, noLimit)
			require.NoError(t, err)
			assert.Len(t, got, len(tt.want), "the storage agrees once the Ready is saved")
		})
	}
}

// Figure 7: a new leader (term 8) brings follower logs of every shape into
// consistency with its own: missing entries (a, b), extra entries (c, d),
// and both (e, f).
func TestLeaderBringsFollowerLogsIntoConsistency(t *testing.T) {
	leader := []uint64{1, 1, 1, 4, 4, 5, 5, 6, 6, 6}
	followers := map[string][]uint64{
		"a": {1, 1, 1, 4, 4, 5, 5, 6, 6},
		"b": {1, 1, 1, 4},
		"c": {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6},
		"d": {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7},
		"e": {1, 1, 1, 4, 4, 4, 4},
		"f": {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3},
	}
	for name, follower := range followers {
		t.Run(name, func(t *testing.T) {
			nw := newNetwork(t, 2)
			saveTerms(t, nw.storage[1], 7, leader)
			saveTerms(t, nw.storage[2], 7, follower)
			r := nw.start(1)
			nw.start(2)
			r.becomeFollower(7, None)
			r.becomeCandidate() // term 8
			r.becomeLeader()
			nw.deliver()
			want := append(append([]uint64(nil), leader...), 8)
			assert.Equal(t, want, logOf(nw.rafts[2]))
			assert.Equal(t, uint64(11), r.log.committed)
			rejections := len(messagesOfType(nw.sent, AppendEntriesReply)) - countSuccesses(nw.sent)
			assert.LessOrEqual(t, rejections, 3, "fast back-up: at most one rejection per conflicting term")
		})
	}
}

// saveTerms saves entries with the given terms, from index 1, and a hard
// state of term.
func saveTerms(t *testing.T, s *MemoryStorage, term uint64, terms []uint64) {
	t.Helper()
	ents := make([]Entry, len(terms))
	for i, tm := range terms {
		ents[i] = Entry{Index: uint64(i + 1), Term: tm, Data: fmt.Appendf(nil, "%d", i+1)}
	}
	require.NoError(t, s.Save(HardState{Term: term}, ents))
}

func countSuccesses(msgs []Message) int {
	n := 0
	for _, m := range msgs {
		if m.Type == AppendEntriesReply && m.Success {
			n++
		}
	}
	return n
}

// §5.4.2 and Figure 8: "Raft never commits log entries from previous terms
// by counting replicas. Only log entries from the leader's current term
// are committed by counting replicas." In the figure, S1 (leader of term 4)
// has the entry of term 2 at index 2 on a majority, yet must not commit it:
// S5 could still be elected and overwrite it. Once its own entry (index 3)
// is on a majority, both are committed.
func TestLeaderCommitsOnlyCurrentTermEntries(t *testing.T) {
	nw := newNetwork(t, 5)
	saveTerms(t, nw.storage[1], 4, []uint64{1, 2})
	r := nw.start(1)
	r.becomeCandidate() // term 5 would do too; the figure's is 4
	r.term = 4
	r.becomeLeader() // appends its no-op at index 3, term 4
	nw.take(1)
	for id := range r.progress {
		r.progress[id].becomeReplicate()
	}
	ack := func(from, match uint64) {
		require.NoError(t, r.Step(Message{From: from, To: 1, Type: AppendEntriesReply, Term: 4, Success: true, MatchIndex: match}))
	}
	ack(2, 2)
	ack(3, 2) // index 2 (term 2) is on S1, S2, S3: a majority
	assert.Equal(t, uint64(0), r.log.committed, "an entry of an earlier term is not committed by counting replicas")
	ack(2, 3)
	assert.Equal(t, uint64(0), r.log.committed, "index 3 is on two servers of five")
	ack(3, 3)
	assert.Equal(t, uint64(3), r.log.committed, "index 3 (term 4) is on a majority, and commits index 2 with it")
}
