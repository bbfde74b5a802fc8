package lock_test

import (
	"runtime"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/lock"
)

// Two servers on one directory would both start their tokens at the same
// saved limit, and issue the same tokens: the second is refused.

func TestSecondServerOnTheSameDirectoryIsRefused(t *testing.T) {
	if !slices.Contains([]string{"linux", "darwin", "freebsd", "netbsd", "openbsd", "dragonfly"}, runtime.GOOS) {
		t.Skip("no flock on", runtime.GOOS, "so the directory is not locked")
	}
	dir := t.TempDir()
	first, err := lock.NewServer(lock.Config{Dir: dir})
	require.NoError(t, err)

	_, err = lock.NewServer(lock.Config{Dir: dir})
	require.ErrorIs(t, err, lock.ErrDirLocked)
	assert.ErrorContains(t, err, dir, "the error names the directory")

	other, err := lock.NewServer(lock.Config{Dir: t.TempDir()})
	require.NoError(t, err, "another directory is free")
	require.NoError(t, other.Close())

	require.NoError(t, first.Close())
	second, err := lock.NewServer(lock.Config{Dir: dir})
	require.NoError(t, err, "Close releases the directory")
	require.NoError(t, second.Close())
}

func TestDirectoryLockIsReleasedByCloseAndByACrash(t *testing.T) {
	m := vfs.NewMem()
	cfg := lock.Config{Dir: "/state"}
	first, err := lock.NewServerFS(cfg, m)
	require.NoError(t, err)
	_, err = lock.NewServerFS(cfg, m)
	require.ErrorIs(t, err, lock.ErrDirLocked)
	require.NoError(t, first.Close())

	second, err := lock.NewServerFS(cfg, m)
	require.NoError(t, err, "Close releases the directory")
	m.Crash() // the process dies: the kernel releases its locks
	third, err := lock.NewServerFS(cfg, m)
	require.NoError(t, err, "a crashed server's lock is gone")
	require.NoError(t, third.Close())
	require.NoError(t, second.Close())
}
