package wal_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
)

func TestANewStorageIsEmpty(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	assert.Equal(t, view{First: 1}, viewOf(t, s))
	got, err := s.Entries(1, 1, 0)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = s.Entries(1, 2, 0)
	assert.ErrorIs(t, err, raft.ErrUnavailable)
	_, err = s.Term(1)
	assert.ErrorIs(t, err, raft.ErrUnavailable)
}

func TestEntriesAreReadBackWithinTheirBounds(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	require.NoError(t, s.Save(raft.HardState{}, ents(1, 10, 1)))
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 3, Term: 1}))

	got, err := s.Entries(4, 11, 1<<20)
	require.NoError(t, err)
	assert.Equal(t, ents(4, 10, 1), got)

	got, err = s.Entries(5, 9, 7) // each entry has 3 bytes of data
	require.NoError(t, err)
	assert.Equal(t, ents(5, 6, 1), got, "stops before passing maxBytes")
	got, err = s.Entries(5, 9, 0)
	require.NoError(t, err)
	assert.Equal(t, ents(5, 5, 1), got, "at least one entry")

	_, err = s.Entries(3, 5, 0)
	assert.ErrorIs(t, err, raft.ErrCompacted)
	_, err = s.Entries(9, 12, 0)
	assert.ErrorIs(t, err, raft.ErrUnavailable)
	_, err = s.Term(2)
	assert.ErrorIs(t, err, raft.ErrCompacted)
	term, err := s.Term(3)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), term, "the snapshot's term")
}

func TestSaveReplacesAConflictingSuffix(t *testing.T) {
	m := vfs.NewMem()
	s := openMem(t, m)
	require.NoError(t, s.Save(raft.HardState{Term: 1}, ents(1, 8, 1)))
	require.NoError(t, s.Save(raft.HardState{Term: 2}, ents(5, 6, 2)))
	want := append(ents(1, 4, 1), ents(5, 6, 2)...)
	assert.Equal(t, want, viewOf(t, s).Ents)

	require.NoError(t, s.Close())
	s = openMem(t, m)
	assert.Equal(t, want, viewOf(t, s).Ents, "after reopening")
}

// The entries Entries returns are the caller's: a later Save that replaces
// them in the log does not change them.
func TestEntriesReturnedAreNotChangedByLaterSaves(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	require.NoError(t, s.Save(raft.HardState{}, ents(1, 5, 1)))
	got, err := s.Entries(1, 6, 1<<20)
	require.NoError(t, err)
	require.NoError(t, s.Save(raft.HardState{}, ents(3, 5, 2)))
	assert.Equal(t, ents(1, 5, 1), got)
}

func TestSaveRefusesEntriesThatLeaveAGap(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	require.NoError(t, s.Save(raft.HardState{}, ents(1, 3, 1)))
	assert.ErrorContains(t, s.Save(raft.HardState{}, ents(5, 6, 1)), "gap")
	assert.ErrorContains(t, s.Save(raft.HardState{}, []raft.Entry{{Index: 4, Term: 1}, {Index: 6, Term: 1}}), "follows")
	assert.NoError(t, s.Save(raft.HardState{}, ents(4, 4, 1)), "a refused Save does not fail the Storage")
}

func TestSaveSkipsEntriesTheSnapshotCovers(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	require.NoError(t, s.Save(raft.HardState{}, ents(1, 5, 1)))
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 4, Term: 1}))
	require.NoError(t, s.Save(raft.HardState{}, ents(2, 7, 1)))
	v := viewOf(t, s)
	assert.Equal(t, uint64(5), v.First)
	assert.Equal(t, ents(5, 7, 1), v.Ents)
}

func TestSaveSnapshot(t *testing.T) {
	tests := []struct {
		name string
		give raft.Snapshot
		want []raft.Entry // the log after it
	}{
		{"a prefix of the log keeps the rest", raft.Snapshot{Index: 3, Term: 1, Data: []byte("s")}, ents(4, 5, 1)},
		{"the whole log", raft.Snapshot{Index: 5, Term: 1}, nil},
		{"a different term at its index discards the log", raft.Snapshot{Index: 3, Term: 2}, nil},
		{"beyond the log discards it", raft.Snapshot{Index: 9, Term: 2}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := vfs.NewMem()
			s := openMem(t, m)
			require.NoError(t, s.Save(raft.HardState{Term: 1}, ents(1, 5, 1)))
			require.NoError(t, s.SaveSnapshot(tt.give))
			want := view{HS: raft.HardState{Term: 1}, Snap: tt.give, First: tt.give.Index + 1,
				Last: tt.give.Index + uint64(len(tt.want)), SnapTerm: tt.give.Term, Ents: tt.want}
			assert.Equal(t, want, viewOf(t, s))
			require.NoError(t, s.Close())
			assert.Equal(t, want, viewOf(t, openMem(t, m)), "after reopening")
		})
	}
}

func TestAnOlderSnapshotIsRefused(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	require.NoError(t, s.Save(raft.HardState{}, ents(1, 5, 1)))
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 4, Term: 1}))
	before := viewOf(t, s)
	assert.ErrorIs(t, s.SaveSnapshot(raft.Snapshot{Index: 2, Term: 1}), raft.ErrSnapshotOutOfDate)
	assert.ErrorIs(t, s.SaveSnapshot(raft.Snapshot{Index: 4, Term: 1}), raft.ErrSnapshotOutOfDate)
	assert.Equal(t, before, viewOf(t, s))
}

func TestTheStorageKeepsItsOwnCopyOfData(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	data := []byte("abc")
	snapData := []byte("snap")
	require.NoError(t, s.Save(raft.HardState{}, []raft.Entry{{Index: 1, Term: 1, Data: data}}))
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 1, Term: 1, Data: snapData}))
	require.NoError(t, s.Save(raft.HardState{}, []raft.Entry{{Index: 2, Term: 1, Data: data}}))
	copy(data, "xyz")
	copy(snapData, "xxxx")
	v := viewOf(t, s)
	assert.Equal(t, []byte("abc"), v.Ents[0].Data)
	assert.Equal(t, []byte("snap"), v.Snap.Data)
}

func TestOnlyOneStorageMayOpenADirectory(t *testing.T) {
	m := vfs.NewMem()
	s := openMem(t, m)
	_, err := wal.Open(dir, wal.WithFS(m))
	assert.ErrorIs(t, err, wal.ErrLocked)
	assert.ErrorIs(t, err, vfs.ErrLocked)
	require.NoError(t, s.Close())
	openMem(t, m)
}

func TestEveryMethodReturnsErrClosedAfterClose(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "a second Close")
	_, err := s.InitialState()
	assert.ErrorIs(t, err, wal.ErrClosed)
	_, err = s.Entries(1, 1, 0)
	assert.ErrorIs(t, err, wal.ErrClosed)
	_, err = s.Term(0)
	assert.ErrorIs(t, err, wal.ErrClosed)
	_, err = s.FirstIndex()
	assert.ErrorIs(t, err, wal.ErrClosed)
	_, err = s.LastIndex()
	assert.ErrorIs(t, err, wal.ErrClosed)
	_, err = s.Snapshot()
	assert.ErrorIs(t, err, wal.ErrClosed)
	assert.ErrorIs(t, s.Save(raft.HardState{Term: 1}, nil), wal.ErrClosed)
	assert.ErrorIs(t, s.SaveSnapshot(raft.Snapshot{Index: 1}), wal.ErrClosed)
}

// After a failed fsync nobody knows what is on the disk: the Storage
// refuses to write on, and reads still answer with the last state that
// was saved.
func TestAFailedSyncFailsTheStorageForGood(t *testing.T) {
	m := vfs.NewMem()
	s := openMem(t, m)
	require.NoError(t, s.Save(raft.HardState{Term: 1}, ents(1, 2, 1)))
	before := viewOf(t, s)

	errDisk := errors.New("disk on fire")
	m.SetFault(func(op vfs.Op) error {
		if op.Kind == vfs.OpSync {
			return errDisk
		}
		return nil
	})
	require.ErrorIs(t, s.Save(raft.HardState{Term: 2}, ents(3, 3, 2)), errDisk)
	m.SetFault(nil)
	assert.ErrorIs(t, s.Save(raft.HardState{Term: 3}, nil), errDisk, "a later Save")
	assert.ErrorIs(t, s.SaveSnapshot(raft.Snapshot{Index: 2, Term: 1}), errDisk, "a later SaveSnapshot")
	assert.Equal(t, before, viewOf(t, s))
}

// Readers do not see a Save's hard state before its entries, and do not
// race with the writer (run with -race). Each Save commits the entry it
// appends, and the log only grows, so a reader that reads the hard state
// and then the last index must find the committed entry there.
func TestReadersSeeASavesHardStateWithItsEntries(t *testing.T) {
	s := openMem(t, vfs.NewMem())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() { // exits when stop is closed
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			// FirstIndex before LastIndex: a snapshot between them only
			// makes first stale (ErrCompacted below), where the other way
			// round it could put first beyond last.
			first, err3 := s.FirstIndex()
			hs, err1 := s.InitialState()
			last, err2 := s.LastIndex()
			_, err4 := s.Entries(first, last+1, 100)
			if errors.Is(err4, raft.ErrCompacted) {
				err4 = nil // a snapshot came between FirstIndex and Entries
			}
			if err := errors.Join(err1, err2, err3, err4); err != nil {
				t.Error(err)
				return
			}
			if hs.Commit > last {
				t.Errorf("commit %d with last index %d: saw the hard state of a Save before its entries", hs.Commit, last)
				return
			}
		}
	}()
	for i := uint64(1); i <= 200; i++ {
		require.NoError(t, s.Save(raft.HardState{Term: 1, Commit: i}, ents(i, i, 1)))
		if i%50 == 0 {
			require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: i - 10, Term: 1}))
		}
	}
	close(stop)
	wg.Wait()
}

func TestSegmentsASnapshotCoversAreDeleted(t *testing.T) {
	m := vfs.NewMem()
	s := openMem(t, m)
	for i := uint64(1); i <= 100; i++ {
		require.NoError(t, s.Save(raft.HardState{Term: 1, Commit: i}, ents(i, i, 1)))
	}
	names, err := m.ReadDir(dir)
	require.NoError(t, err)
	require.Greater(t, len(names), 5, "the test needs many segments")

	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 60, Term: 1}))
	require.NoError(t, s.SaveSnapshot(raft.Snapshot{Index: 100, Term: 1}))
	names, err = m.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, names, 2, "the last segment and the newest snapshot: %v", names)
	assert.Contains(t, names, "0000000000000064.snap")

	require.NoError(t, s.Close())
	assert.Equal(t, raft.HardState{Term: 1, Commit: 100}, viewOf(t, openMem(t, m)).HS,
		"the hard state outlives the segment it was written in")
}
