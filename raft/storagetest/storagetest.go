package storagetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
)

// noLimit is a byte limit that limits nothing.
const noLimit = ^uint64(0)

// RunStorageTests runs the contract suite against the raft.Storage that
// newStorage returns: a new, empty one for each subtest, whose cleanup
// (closing it, removing its files) newStorage registers with t.
func RunStorageTests(t *testing.T, newStorage func(t *testing.T) raft.Storage) {
	t.Helper()
	tests := []struct {
		name string
		run  func(*testing.T, raft.Storage)
	}{
		{"ANewStorageIsEmpty", testEmpty},
		{"EntriesAndHardStateReadBackAsSaved", testReadBack},
		{"AZeroHardStateLeavesTheHardState", testZeroHardState},
		{"EntriesStopAtMaxBytesButReturnOne", testMaxBytes},
		{"EntriesOutsideTheLogAreErrors", testOutOfRange},
		{"SaveReplacesAConflictingSuffix", testConflictingSuffix},
		{"SaveRefusesAGapAndChangesNothing", testGap},
		{"EntriesReturnedAreNotChangedByLaterSaves", testNoAliasing},
		{"SnapshotMatchingTheLogKeepsTheEntriesAfterIt", testSnapshotKeepsSuffix},
		{"SnapshotNotMatchingTheLogDiscardsIt", testSnapshotDiscardsLog},
		{"SnapshotBeyondTheLog", testSnapshotBeyondLog},
		{"AnOlderSnapshotIsRefused", testOlderSnapshot},
		{"SavingAfterASnapshot", testSaveAfterSnapshot},
		{"ReadersDuringWrites", testConcurrentReaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, newStorage(t)) })
	}
}

// entries returns entries lo to hi (inclusive) of term term, each with
// data of its own ("e<index>t<term>").
func entries(lo, hi, term uint64) []raft.Entry {
	var ents []raft.Entry
	for i := lo; i <= hi; i++ {
		ents = append(ents, raft.Entry{Index: i, Term: term, Data: fmt.Appendf(nil, "e%dt%d", i, term)})
	}
	return ents
}

// state is what a storage says about itself through its read methods.
type state struct {
	First, Last uint64
	Terms       []uint64 // of entries First-1 (the snapshot's) to Last
	Entries     []raft.Entry
	Hard        raft.HardState
	Snap        raft.Snapshot
}

func read(t *testing.T, s raft.Storage) state {
	t.Helper()
	var st state
	var err error
	st.First, err = s.FirstIndex()
	require.NoError(t, err)
	st.Last, err = s.LastIndex()
	require.NoError(t, err)
	require.LessOrEqual(t, st.First, st.Last+1, "FirstIndex %d is past LastIndex+1 %d", st.First, st.Last+1)
	for i := st.First - 1; i <= st.Last; i++ {
		term, err := s.Term(i)
		require.NoError(t, err, "Term(%d) of a log from %d to %d", i, st.First, st.Last)
		st.Terms = append(st.Terms, term)
	}
	if st.First <= st.Last {
		st.Entries, err = s.Entries(st.First, st.Last+1, noLimit)
		require.NoError(t, err)
	}
	st.Hard, err = s.InitialState()
	require.NoError(t, err)
	st.Snap, err = s.Snapshot()
	require.NoError(t, err)
	return st
}

func save(t *testing.T, s raft.Storage, hs raft.HardState, ents []raft.Entry) {
	t.Helper()
	require.NoError(t, s.Save(hs, ents))
}

func testEmpty(t *testing.T, s raft.Storage) {
	st := read(t, s)
	assert.Equal(t, state{First: 1, Last: 0, Terms: []uint64{0}}, st)
	_, err := s.Entries(1, 2, noLimit)
	require.ErrorIs(t, err, raft.ErrUnavailable)
	_, err = s.Term(1)
	require.ErrorIs(t, err, raft.ErrUnavailable)
}

func testReadBack(t *testing.T, s raft.Storage) {
	hs := raft.HardState{Term: 3, VotedFor: 2, Commit: 4}
	ents := append(entries(1, 2, 1), entries(3, 5, 3)...)
	ents[2].Type = raft.EntryNoop
	save(t, s, hs, ents[:2])
	save(t, s, hs, ents[2:])
	st := read(t, s)
	assert.Equal(t, uint64(1), st.First)
	assert.Equal(t, uint64(5), st.Last)
	assert.Equal(t, []uint64{0, 1, 1, 3, 3, 3}, st.Terms)
	assert.Equal(t, ents, st.Entries)
	assert.Equal(t, hs, st.Hard)
	got, err := s.Entries(2, 4, noLimit)
	require.NoError(t, err)
	assert.Equal(t, ents[1:3], got)
}

func testZeroHardState(t *testing.T, s raft.Storage) {
	hs := raft.HardState{Term: 2, VotedFor: 1, Commit: 1}
	save(t, s, hs, entries(1, 1, 2))
	save(t, s, raft.HardState{}, entries(2, 2, 2))
	got, err := s.InitialState()
	require.NoError(t, err)
	assert.Equal(t, hs, got)
}

func testMaxBytes(t *testing.T, s raft.Storage) {
	ents := entries(1, 5, 1) // 4 bytes of data each
	save(t, s, raft.HardState{Term: 1}, ents)
	tests := []struct {
		maxBytes uint64
		want     int
	}{
		{0, 1}, {3, 1}, {4, 1}, {7, 1}, {8, 2}, {12, 3}, {19, 4}, {20, 5}, {noLimit, 5},
	}
	for _, tt := range tests {
		got, err := s.Entries(1, 6, tt.maxBytes)
		require.NoError(t, err)
		assert.Equal(t, ents[:tt.want], got, "maxBytes %d", tt.maxBytes)
	}
}

func testOutOfRange(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 1}, entries(1, 5, 1))
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 2, Term: 1, Data: []byte("s")}))
	_, err := s.Entries(2, 4, noLimit)
	require.ErrorIs(t, err, raft.ErrCompacted)
	_, err = s.Entries(3, 7, noLimit)
	require.ErrorIs(t, err, raft.ErrUnavailable)
	_, err = s.Term(1)
	require.ErrorIs(t, err, raft.ErrCompacted)
	_, err = s.Term(6)
	require.ErrorIs(t, err, raft.ErrUnavailable)
	term, err := s.Term(2)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), term, "the snapshot's own index has its term")
}

func testConflictingSuffix(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 1}, entries(1, 5, 1))
	save(t, s, raft.HardState{Term: 2}, entries(3, 3, 2))
	st := read(t, s)
	assert.Equal(t, uint64(3), st.Last, "entries 4 and 5 followed the replaced one, and went with it")
	assert.Equal(t, append(entries(1, 2, 1), entries(3, 3, 2)...), st.Entries)
	save(t, s, raft.HardState{}, entries(1, 1, 1)) // a repeat of the first: replaces the rest too
	assert.Equal(t, uint64(1), read(t, s).Last)
}

func testGap(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 1}, entries(1, 2, 1))
	before := read(t, s)
	require.Error(t, s.Save(raft.HardState{Term: 2}, entries(4, 5, 2)), "entry 3 is missing")
	gappy := append(entries(3, 3, 1), entries(5, 5, 1)...)
	require.Error(t, s.Save(raft.HardState{Term: 2}, gappy), "entries not consecutive")
	assert.Equal(t, before, read(t, s))
}

func testNoAliasing(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 1}, entries(1, 4, 1))
	got, err := s.Entries(1, 5, noLimit)
	require.NoError(t, err)
	save(t, s, raft.HardState{Term: 2}, entries(2, 4, 2)) // overwrites 2 to 4
	save(t, s, raft.HardState{Term: 2}, entries(5, 8, 2)) // and appends
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 3, Term: 2}))
	assert.Equal(t, entries(1, 4, 1), got, "a slice Entries returned changed under its holder")
}

func testSnapshotKeepsSuffix(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 2, Commit: 5}, append(entries(1, 3, 1), entries(4, 6, 2)...))
	snap := raft.Snapshot{Index: 4, Term: 2, Data: []byte("state at 4")}
	require.NoError(t, s.SaveSnapshot(snap))
	st := read(t, s)
	assert.Equal(t, uint64(5), st.First)
	assert.Equal(t, uint64(6), st.Last)
	assert.Equal(t, []uint64{2, 2, 2}, st.Terms)
	assert.Equal(t, entries(5, 6, 2), st.Entries)
	assert.Equal(t, snap, st.Snap)
	assert.Equal(t, raft.HardState{Term: 2, Commit: 5}, st.Hard, "the hard state is untouched")
}

func testSnapshotDiscardsLog(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 2}, append(entries(1, 3, 1), entries(4, 6, 2)...))
	snap := raft.Snapshot{Index: 5, Term: 3, Data: []byte("state at 5")} // the log has term 2 at 5
	require.NoError(t, s.SaveSnapshot(snap))
	st := read(t, s)
	assert.Equal(t, state{First: 6, Last: 5, Terms: []uint64{3}, Hard: raft.HardState{Term: 2}, Snap: snap}, st)
}

func testSnapshotBeyondLog(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 1}, entries(1, 2, 1))
	snap := raft.Snapshot{Index: 10, Term: 4, Data: []byte("x")}
	require.NoError(t, s.SaveSnapshot(snap))
	st := read(t, s)
	assert.Equal(t, [3]uint64{11, 10, 4}, [3]uint64{st.First, st.Last, st.Terms[0]})
}

func testOlderSnapshot(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 1}, entries(1, 6, 1))
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 4, Term: 1, Data: []byte("4")}))
	before := read(t, s)
	require.ErrorIs(t, s.SaveSnapshot(raft.Snapshot{Index: 3, Term: 1, Data: []byte("3")}), raft.ErrSnapshotOutOfDate)
	assert.Equal(t, before, read(t, s))
}

func testSaveAfterSnapshot(t *testing.T, s raft.Storage) {
	// A follower installing a leader's snapshot saves it, then the entries
	// that follow it.
	save(t, s, raft.HardState{Term: 1}, entries(1, 2, 1))
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 7, Term: 3}))
	save(t, s, raft.HardState{Term: 3, Commit: 7}, entries(8, 9, 3))
	st := read(t, s)
	assert.Equal(t, entries(8, 9, 3), st.Entries)
	assert.Equal(t, []uint64{3, 3, 3}, st.Terms)
	assert.Equal(t, raft.HardState{Term: 3, Commit: 7}, st.Hard)
}

// testConcurrentReaders reads while another goroutine writes; every read
// must see a log that is whole (run with -race to check the locking).
func testConcurrentReaders(t *testing.T, s raft.Storage) {
	save(t, s, raft.HardState{Term: 1}, entries(1, 1, 1))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := checkWhole(s); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := uint64(2); i <= 200; i++ {
		if err := s.Save(raft.HardState{Term: 1, Commit: i - 1}, entries(i, i, 1)); err != nil {
			t.Error(err)
			break
		}
		if i%50 == 0 {
			if err := s.SaveSnapshot(raft.Snapshot{Index: i - 10, Term: 1}); err != nil {
				t.Error(err)
				break
			}
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkWhole reads the last entry, which must exist unless a write
// compacted it in between (the two reads are not one atomic view).
func checkWhole(s raft.Storage) error {
	last, err := s.LastIndex()
	if err != nil {
		return err
	}
	ents, err := s.Entries(last, last+1, noLimit)
	switch {
	case errors.Is(err, raft.ErrCompacted):
		return nil
	case err != nil:
		return fmt.Errorf("Entries(%d, %d): %w", last, last+1, err)
	case len(ents) != 1 || ents[0].Index != last:
		return fmt.Errorf("Entries(%d, %d) = %v", last, last+1, ents)
	}
	return nil
}
