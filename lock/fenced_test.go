package lock_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock"
)

func TestFencedStore(t *testing.T) {
	var s lock.FencedStore
	require.ErrorIs(t, s.Put(0, "k", "v"), lock.ErrStaleToken, "token 0 carries no lease")
	require.NoError(t, s.Put(5, "k", "a"))
	require.NoError(t, s.Put(5, "k", "b"), "one holder writes many times")
	assert.ErrorIs(t, s.Put(4, "k", "old"), lock.ErrStaleToken)
	v, ok := s.Get("k")
	assert.True(t, ok)
	assert.Equal(t, "b", v, "a refused write changes nothing")
	assert.Equal(t, uint64(5), s.Newest())

	// A new holder reads with its token before it writes: from then on the
	// old holder can write nothing, so the read-modify-write is safe.
	v, ok, err := s.FencedGet(6, "k")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "b", v)
	assert.ErrorIs(t, s.Put(5, "k", "late"), lock.ErrStaleToken, "the old holder's write between the new holder's read and write")
	_, _, err = s.FencedGet(5, "k")
	assert.ErrorIs(t, err, lock.ErrStaleToken)
	_, ok, err = s.FencedGet(6, "missing")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, s.Put(6, "k", "c"))
}
