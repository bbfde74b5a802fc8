package rafttest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
)

// logServer is a leader of term 2 whose log holds terms.
type logServer struct{ terms map[uint64]uint64 }

func (s logServer) Start([]byte) (uint64, uint64, bool) { return 0, 0, false }
func (s logServer) GetState() (uint64, bool)            { return 2, true }
func (s logServer) Snapshot(uint64, []byte)             {}
func (s logServer) Kill()                               {}
func (s logServer) EntryTerm(i uint64) (uint64, error) {
	if t, ok := s.terms[i]; ok {
		return t, nil
	}
	return 0, raft.ErrUnavailable
}

func TestLeaderCompletenessCatchesALeaderWithoutACommittedEntry(t *testing.T) {
	ch := newChecker(2)
	ch.restart(0)
	ch.restart(1)
	require.NoError(t, ch.applyCommand(0, 1, 1, []byte("x")))
	assert.Empty(t, ch.mustHave(1, 2), "no bound on the commit term yet: nothing to check")
	ch.bound(0, 1)
	want := ch.mustHave(1, 3)
	require.Equal(t, map[uint64]uint64{1: 1}, want)

	err := checkCompleteness(1, logServer{}, 2, want)
	require.ErrorContains(t, err, "Leader Completeness")
	err = checkCompleteness(1, logServer{terms: map[uint64]uint64{1: 2}}, 2, want)
	require.ErrorContains(t, err, "Leader Completeness", "a different entry at the index")
	assert.NoError(t, checkCompleteness(1, logServer{terms: map[uint64]uint64{1: 1}}, 2, want))
	assert.NoError(t, checkCompleteness(1, logServer{}, 5, want), "no longer the leader of that term: no conclusion")
}

func TestCheckerCatchesAppliesOutOfOrderAndMismatchedTerms(t *testing.T) {
	ch := newChecker(2)
	ch.restart(0)
	ch.restart(1)
	require.NoError(t, ch.applyCommand(0, 1, 1, []byte("x")))
	assert.ErrorContains(t, ch.applyCommand(0, 3, 1, []byte("y")), "out of order")
	assert.ErrorContains(t, ch.applyCommand(1, 1, 2, []byte("x")), "Log Matching")
	assert.ErrorContains(t, ch.applyCommand(1, 1, 1, []byte("z")), "State Machine Safety")
	assert.ErrorContains(t, ch.installSnapshot(1, 1, encodeSnapshot(1, [][]byte{[]byte("z")})), "State Machine Safety")
	assert.ErrorContains(t, ch.installSnapshot(1, 1, []byte{0xff}), "did not make")
	assert.NoError(t, ch.installSnapshot(1, 1, encodeSnapshot(1, [][]byte{[]byte("x")})))
	assert.NoError(t, ch.leader(1, 4), "the first leader of term 4")
	assert.ErrorContains(t, ch.leader(0, 4), "Election Safety")
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(2, [][]byte{[]byte("a"), nil}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		index, cmds, err := decodeSnapshot(b)
		if err != nil {
			return
		}
		require.Equal(t, b, encodeSnapshot(index, cmds), "decode then encode gives the input back")
	})
}
