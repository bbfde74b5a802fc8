//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package lock_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock"
)

// Two servers on one directory would both start their tokens at the same
// saved limit, and issue the same tokens: the second is refused. (Only
// where flock exists; elsewhere the directory is not locked.)
func TestSecondServerOnTheSameDirectoryIsRefused(t *testing.T) {
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
