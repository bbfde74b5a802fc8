package wal_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/storagetest"
	"github.com/distsys-kit/distsys/raft/wal"
)

// The WAL keeps the raft.Storage contract, as MemoryStorage does: on an
// in-memory file system, with small segments so that rolling to a new
// segment and deleting covered ones happen within the suite, and on the
// real one.
func TestStorageContract(t *testing.T) {
	t.Run("mem", func(t *testing.T) {
		storagetest.RunStorageTests(t, func(t *testing.T) raft.Storage {
			return openMem(t, vfs.NewMem()) // 256-byte segments: rolled and deleted within the suite
		})
	})
	t.Run("disk", func(t *testing.T) {
		storagetest.RunStorageTests(t, func(t *testing.T) raft.Storage {
			s, err := wal.Open(t.TempDir())
			require.NoError(t, err)
			t.Cleanup(func() { _ = s.Close() })
			return s
		})
	})
}
