package wal_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft/wal"
)

// FuzzOpen opens a directory holding an arbitrary segment and snapshot
// file. Open must not panic or allocate more than the files justify; it
// either refuses with ErrCorrupt and leaves the files untouched, or
// succeeds having at most cut the segment's tail, and then opening again
// finds the same state.
func FuzzOpen(f *testing.F) {
	m, _, _ := fixture(f)
	fs := files(f, m)
	snap := []byte(fs["0000000000000003.snap"])
	for name, data := range fs {
		f.Add([]byte(data), snap)
		f.Add([]byte(data[:len(data)*2/3]), snap)
		if name == "0000000000000001.wal" {
			f.Add([]byte(data), []byte(nil))
		}
	}
	f.Add([]byte(nil), []byte(nil))
	f.Add(make([]byte, 100), []byte(nil))

	const (
		segName  = dir + "/0000000000000001.wal"
		snapName = dir + "/0000000000000003.snap"
	)
	f.Fuzz(func(t *testing.T, segment, snapshot []byte) {
		m := vfs.NewMem()
		require.NoError(t, m.MkdirAll(dir, 0o755))
		require.NoError(t, vfs.WriteFileAtomic(m, segName, segment, 0o644))
		if len(snapshot) > 0 {
			require.NoError(t, vfs.WriteFileAtomic(m, snapName, snapshot, 0o644))
		}

		s, err := wal.Open(dir, wal.WithFS(m))
		if err != nil {
			require.ErrorIs(t, err, wal.ErrCorrupt)
			got, rerr := m.ReadFile(segName)
			require.NoError(t, rerr)
			require.Equal(t, segment, got, "a refused segment is left as it was")
			return
		}
		want := viewOf(t, s)
		require.NoError(t, s.Close())
		got, err := m.ReadFile(segName)
		require.NoError(t, err)
		require.True(t, bytes.HasPrefix(segment, got), "Open did more than cut the segment's tail")

		s, err = wal.Open(dir, wal.WithFS(m))
		require.NoError(t, err, "reopening")
		defer s.Close()
		require.Equal(t, want, viewOf(t, s), "reopening")
	})
}
