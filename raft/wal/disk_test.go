package wal_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
)

// The same Storage on the real file system: what was saved is read back
// after reopening, the directory lock (flock) keeps a second Storage out,
// and damage in an older segment is refused.
func TestOnARealDisk(t *testing.T) {
	d := t.TempDir()
	s, err := wal.Open(d, wal.WithSegmentSize(512))
	require.NoError(t, err)
	var mod model
	save := func(hs raft.HardState, es []raft.Entry) {
		require.NoError(t, s.Save(hs, es))
		mod.save(hs, es)
	}
	for i := uint64(1); i <= 40; i++ {
		save(raft.HardState{Term: 1, Commit: i}, ents(i, i, 1))
	}
	snap := raft.Snapshot{Index: 25, Term: 1, Data: []byte("twenty-five")}
	require.NoError(t, s.SaveSnapshot(snap))
	mod.saveSnapshot(snap)
	save(raft.HardState{Term: 2, VotedFor: 3, Commit: 30}, ents(35, 37, 2))

	_, err = wal.Open(d)
	assert.ErrorIs(t, err, wal.ErrLocked, "a second Storage on the directory")
	require.NoError(t, s.Close())

	s, err = wal.Open(d)
	require.NoError(t, err)
	assert.Equal(t, mod.view(), viewOf(t, s))
	require.NoError(t, s.Close())

	segments, err := filepath.Glob(filepath.Join(d, "*.wal"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(segments), 2, "damage goes in an older segment")
	b, err := os.ReadFile(segments[0])
	require.NoError(t, err)
	b[len(b)/2] ^= 0x01
	require.NoError(t, os.WriteFile(segments[0], b, 0o644))
	_, err = wal.Open(d)
	require.ErrorIs(t, err, wal.ErrCorrupt)
	assert.ErrorContains(t, err, segments[0])
}
