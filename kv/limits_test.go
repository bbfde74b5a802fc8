package kv_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// limited serves a store within lim and returns it and a client of it
// (with no rpc options: refusals need none to cross the wire).
func limited(t *testing.T, lim kv.Limits) (*kv.Store, *kv.Client) {
	t.Helper()
	n := netsim.NewNetwork(1)
	t.Cleanup(func() { n.Close() })
	store := serve(t, n, kv.WithLimits(lim))
	return store, dial(t, n, "client")
}

// requireLimit checks that err is a refusal by limit, matching sentinel.
func requireLimit(t *testing.T, err error, sentinel error, want kv.LimitError) {
	t.Helper()
	require.ErrorIs(t, err, sentinel)
	var le *kv.LimitError
	require.True(t, errors.As(err, &le), "a *kv.LimitError: %v", err)
	assert.Equal(t, want, *le)
}

func TestWritesTooLargeAreRefusedAcrossTheWire(t *testing.T) {
	lim := kv.Limits{MaxKeyLen: 4, MaxValueLen: 5}
	long := strings.Repeat("k", 5)
	tests := []struct {
		name  string
		write func(c *kv.Client) (uint64, error)
		want  kv.LimitError
	}{
		{"put, key", func(c *kv.Client) (uint64, error) { return c.Put(context.Background(), long, "v") },
			kv.LimitError{Limit: "MaxKeyLen", Max: 4, Got: 5}},
		{"put, value", func(c *kv.Client) (uint64, error) { return c.Put(context.Background(), "k", "123456") },
			kv.LimitError{Limit: "MaxValueLen", Max: 5, Got: 6}},
		{"append, key", func(c *kv.Client) (uint64, error) { return c.Append(context.Background(), long, "v") },
			kv.LimitError{Limit: "MaxKeyLen", Max: 4, Got: 5}},
		{"append, the value it would make", func(c *kv.Client) (uint64, error) { return c.Append(context.Background(), "k", "456") },
			kv.LimitError{Limit: "MaxValueLen", Max: 5, Got: 6}},
		{"putif, key", func(c *kv.Client) (uint64, error) { return c.PutIf(context.Background(), long, "v", 0) },
			kv.LimitError{Limit: "MaxKeyLen", Max: 4, Got: 5}},
		{"putif, value", func(c *kv.Client) (uint64, error) { return c.PutIf(context.Background(), "k", "123456", 1) },
			kv.LimitError{Limit: "MaxValueLen", Max: 5, Got: 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store, c := limited(t, lim)
				_, err := c.Put(context.Background(), "k", "123")
				require.NoError(t, err)

				_, err = tt.write(c)
				requireLimit(t, err, kv.ErrTooLarge, tt.want)
				assert.NotErrorIs(t, err, kv.ErrFull)
				v, ver, err := c.Get(context.Background(), "k")
				require.NoError(t, err)
				assert.Equal(t, "123", v, "the refused write changed nothing")
				assert.Equal(t, uint64(1), ver)
				assert.Equal(t, kv.Usage{Keys: 1, Bytes: 4}, store.Usage())
				assert.Equal(t, int64(1), store.Stats().Refused)
			})
		})
	}
}

func TestFullStoreRefusesNewKeysButChangesOldOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c := limited(t, kv.Limits{MaxKeys: 2})
		ctx := context.Background()
		for _, k := range []string{"a", "b"} {
			_, err := c.Put(ctx, k, "1")
			require.NoError(t, err)
		}
		_, err := c.Put(ctx, "c", "1")
		requireLimit(t, err, kv.ErrFull, kv.LimitError{Limit: "MaxKeys", Max: 2, Got: 3})
		_, err = c.Append(ctx, "c", "1")
		require.ErrorIs(t, err, kv.ErrFull)
		_, err = c.PutIf(ctx, "c", "1", 0)
		require.ErrorIs(t, err, kv.ErrFull)
		_, _, err = c.Get(ctx, "c")
		require.ErrorIs(t, err, kv.ErrNoKey, "the refused key is not there")

		ver, err := c.Append(ctx, "a", "2")
		require.NoError(t, err, "a key the store holds still changes")
		assert.Equal(t, uint64(2), ver)
		assert.Equal(t, kv.Usage{Keys: 2, Bytes: 5}, store.Usage())

		store.Put("x", "1") // the program's own write: 3 keys, over the limit
		_, err = c.Put(ctx, "a", "3")
		require.NoError(t, err, "a key an overfull store holds still changes")
	})
}

func TestMaxBytesCountsWhatAWriteFrees(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store, c := limited(t, kv.Limits{MaxBytes: 10})
		ctx := context.Background()
		_, err := c.Put(ctx, "k", "123456789") // 1+9 bytes: full
		require.NoError(t, err)
		_, err = c.Append(ctx, "k", "0")
		requireLimit(t, err, kv.ErrFull, kv.LimitError{Limit: "MaxBytes", Max: 10, Got: 11})
		_, err = c.Put(ctx, "k", "1") // shrinks: frees 8 bytes
		require.NoError(t, err, "a write that shrinks the store is never refused")
		assert.Equal(t, kv.Usage{Keys: 1, Bytes: 2}, store.Usage())
		_, err = c.Put(ctx, "j", "1234567") // 1+7 bytes: fits in what was freed
		require.NoError(t, err)
		assert.Equal(t, kv.Usage{Keys: 2, Bytes: 10}, store.Usage())

		store.Put("big", "123456789") // the program's own write: over the limit
		_, err = c.Put(ctx, "big", "12345678")
		require.NoError(t, err, "a write that shrinks an overfull store is not refused")
	})
}

func TestRegisterHasDefaultLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		serve(t, n) // no options
		c := dial(t, n, "client")
		_, err := c.Put(context.Background(), strings.Repeat("k", kv.DefaultMaxKeyLen+1), "v")
		requireLimit(t, err, kv.ErrTooLarge, kv.LimitError{Limit: "MaxKeyLen", Max: kv.DefaultMaxKeyLen, Got: kv.DefaultMaxKeyLen + 1})
		_, err = c.Put(context.Background(), strings.Repeat("k", kv.DefaultMaxKeyLen), "v")
		require.NoError(t, err, "a key as long as the limit is accepted")
	})
}

func TestNegativeLimitMeansNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, c := limited(t, kv.Limits{MaxKeyLen: -1})
		_, err := c.Put(context.Background(), strings.Repeat("k", kv.DefaultMaxKeyLen+1), "v")
		require.NoError(t, err)
	})
}

func TestStoreMethodsHaveNoLimits(t *testing.T) {
	s := kv.NewStore()
	long := strings.Repeat("k", kv.DefaultMaxKeyLen+1)
	assert.Equal(t, uint64(1), s.Put(long, "v").Version, "a program's own calls are not bounded")
	assert.Equal(t, kv.Usage{Keys: 1, Bytes: int64(len(long)) + 1}, s.Usage())
	assert.Zero(t, s.Stats().Refused)
}

func TestLimitErrorSaysWhichLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, c := limited(t, kv.Limits{MaxValueLen: 3})
		_, err := c.Put(context.Background(), "k", "1234")
		require.EqualError(t, err, `kv: put "k": kv: a value of 4 bytes is over the server's limit (MaxValueLen 3)`)
	})
}
