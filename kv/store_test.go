package kv_test

import (
	"errors"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/kv"
)

func TestZeroStoreIsEmpty(t *testing.T) {
	var s kv.Store
	_, err := s.Get("x")
	assert.ErrorIs(t, err, kv.ErrNoKey)
	assert.Equal(t, kv.Entry{Value: "a", Version: 1}, s.Put("x", "a"))
}

func TestEveryWriteMakesTheVersionOneLarger(t *testing.T) {
	s := kv.NewStore()
	assert.Equal(t, kv.Entry{Value: "a", Version: 1}, s.Put("k", "a"))
	assert.Equal(t, kv.Entry{Value: "ab", Version: 2}, s.Append("k", "b"))
	e, err := s.PutIf("k", "c", 2)
	require.NoError(t, err)
	assert.Equal(t, kv.Entry{Value: "c", Version: 3}, e)
	got, err := s.Get("k")
	require.NoError(t, err)
	assert.Equal(t, e, got)
	assert.Equal(t, kv.Entry{Value: "x", Version: 1}, s.Append("other", "x"), "an absent key appends to empty")
}

func TestPutIfRefusesAnotherVersion(t *testing.T) {
	tests := []struct {
		name    string
		version uint64
		want    kv.ConflictError
	}{
		{"older", 1, kv.ConflictError{Key: "k", Want: 1, Have: 2}},
		{"newer", 3, kv.ConflictError{Key: "k", Want: 3, Have: 2}},
		{"create over an existing key", 0, kv.ConflictError{Key: "k", Want: 0, Have: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := kv.NewStore()
			s.Put("k", "a")
			s.Put("k", "b")
			e, err := s.PutIf("k", "c", tt.version)
			require.ErrorIs(t, err, kv.ErrConflict)
			var ce *kv.ConflictError
			require.True(t, errors.As(err, &ce))
			assert.Equal(t, tt.want, *ce)
			assert.Equal(t, kv.Entry{Value: "b", Version: 2}, e, "nothing changed; the entry is what is there")
			assert.Equal(t, int64(1), s.Stats().Conflicts)
		})
	}
}

func TestPutIfAtVersionZeroCreates(t *testing.T) {
	s := kv.NewStore()
	e, err := s.PutIf("new", "v", 0)
	require.NoError(t, err)
	assert.Equal(t, kv.Entry{Value: "v", Version: 1}, e)
}

func TestConcurrentPutIfIncrementsLoseNothing(t *testing.T) {
	s := kv.NewStore()
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				for { // read-modify-write until the version check passes
					e, _ := s.Get("n")
					if _, err := s.PutIf("n", e.Value+"+", e.Version); err == nil {
						break
					}
				}
			}
		})
	}
	wg.Wait()
	e, err := s.Get("n")
	require.NoError(t, err)
	assert.Len(t, e.Value, workers*each)
	assert.Equal(t, uint64(workers*each), e.Version)
}

func TestStatsCountEveryOperation(t *testing.T) {
	s := kv.NewStore()
	s.Get("a")
	s.Put("a", "1")
	s.Append("a", "2")
	s.PutIf("a", "3", 9)
	assert.Equal(t, kv.Stats{Gets: 1, Puts: 1, Appends: 1, PutIfs: 1, Conflicts: 1}, s.Stats())
}
