package kvstore_test

import (
	"context"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/kvstore"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// connect serves a new store over a pipe and returns a client of it.
func connect(t *testing.T) (*kvstore.Store, *kvstore.Client) {
	t.Helper()
	store := kvstore.New()
	srv := rpc.NewServer(rpc.WithErrors(kvstore.Errors...))
	require.NoError(t, store.Register(srv))
	a, b := net.Pipe()
	served := make(chan struct{})
	go func() { // exits when srv is closed
		defer close(served)
		srv.ServeConn(transport.NewConn(b))
	}()
	rc := rpc.NewClient(transport.NewConn(a), rpc.WithErrors(kvstore.Errors...))
	t.Cleanup(func() {
		rc.Close()
		srv.Close()
		<-served
	})
	return store, kvstore.NewClient(rc)
}

func TestPutIsACompareAndSet(t *testing.T) {
	_, c := connect(t)
	ctx := context.Background()
	e, err := c.Put(ctx, "k", 5, 0)
	require.NoError(t, err)
	assert.Equal(t, kvstore.Entry{Value: 5, Version: 1}, e)

	_, err = c.Put(ctx, "k", 6, 0)
	require.ErrorIs(t, err, kvstore.ErrConflict, "a writer that read version 0 is refused")
	got, err := c.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, kvstore.Entry{Value: 5, Version: 1}, got, "the refused write changed nothing")
}

func TestAddAndIncrement(t *testing.T) {
	store, c := connect(t)
	ctx := context.Background()
	e, err := c.Add(ctx, "n", 10)
	require.NoError(t, err)
	assert.Equal(t, kvstore.Entry{Value: 10, Version: 1}, e)
	e, refused, err := c.Increment(ctx, "n")
	require.NoError(t, err)
	assert.Equal(t, 0, refused)
	assert.Equal(t, kvstore.Entry{Value: 11, Version: 2}, e)
	assert.Equal(t, kvstore.Stats{Keys: 1, Adds: 1}, store.Stats())
}

func TestKeysAreBounded(t *testing.T) {
	_, c := connect(t)
	ctx := context.Background()
	_, err := c.Get(ctx, "")
	require.ErrorContains(t, err, "key of 0 bytes, want 1 to 1024")
	_, err = c.Add(ctx, strings.Repeat("k", kvstore.MaxKeyLen+1), 1)
	require.ErrorContains(t, err, "key of 1025 bytes")
}

func TestStoreRefusesNewKeysWhenFull(t *testing.T) {
	s := kvstore.New()
	var e kvstore.Entry
	for i := range kvstore.MaxKeys {
		require.NoError(t, s.Put(&kvstore.PutArgs{Key: strconv.Itoa(i), Value: 1}, &e))
	}
	require.ErrorIs(t, s.Add(&kvstore.AddArgs{Key: "new", Delta: 1}, &e), kvstore.ErrFull)
	require.ErrorIs(t, s.Put(&kvstore.PutArgs{Key: "new", Value: 1}, &e), kvstore.ErrFull)
	require.NoError(t, s.Add(&kvstore.AddArgs{Key: "0", Delta: 1}, &e), "old keys still change")
}
