package afs_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/afs"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// system is a server and two clients on a simulated network.
type system struct {
	net        *netsim.Network
	server     *afs.Server
	alice, bob *afs.Client
}

// newSystem starts a server holding notes.txt at version 1, and alice and
// bob; everything stops at the test's end.
func newSystem(t *testing.T, callbacks bool) *system {
	t.Helper()
	n := netsim.NewNetwork(1)
	t.Cleanup(func() { n.Close() })
	s := &system{net: n}
	dial := func(ctx context.Context, client string) (afs.Conn, error) {
		return rpc.Dial(ctx, client, rpc.WithDialer(n.Dialer("server")), rpc.WithRetry(rpc.RetryPolicy{Interval: 20 * time.Millisecond}))
	}
	s.server = afs.NewServer([]afs.File{{Name: "notes.txt", Data: "draft 1", Version: 1}},
		afs.Config{Callbacks: callbacks, Dial: dial, CallbackTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { s.server.Close() }) // after the rpc server, registered below
	serve(t, n, "server", s.server.Register)
	for _, name := range []string{"alice", "bob"} {
		rc, err := rpc.Dial(context.Background(), "server", rpc.WithDialer(n.Dialer(name)),
			rpc.WithErrors(afs.ErrNoFile), rpc.WithRetry(rpc.RetryPolicy{Interval: 20 * time.Millisecond}))
		require.NoError(t, err)
		t.Cleanup(func() { rc.Close() })
		c := afs.NewClient(name, rc)
		serve(t, n, name, c.Register)
		if name == "alice" {
			s.alice = c
		} else {
			s.bob = c
		}
	}
	return s
}

// serve starts an rpc server on node with what register registers.
func serve(t *testing.T, n *netsim.Network, node string, register func(*rpc.Server) error) {
	t.Helper()
	l, err := n.Listen(node)
	require.NoError(t, err)
	srv := rpc.NewServer(rpc.WithErrors(afs.ErrNoFile))
	require.NoError(t, register(srv))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-served })
}

func TestOpenFetchesOnceThenServesFromTheCache(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSystem(t, true)
		ctx := context.Background()
		f, hit, err := s.alice.Open(ctx, "notes.txt")
		require.NoError(t, err)
		assert.False(t, hit)
		assert.Equal(t, afs.File{Name: "notes.txt", Data: "draft 1", Version: 1}, f)
		before := s.net.NodeStats("alice").Out.Sent
		_, hit, err = s.alice.Open(ctx, "notes.txt")
		require.NoError(t, err)
		assert.True(t, hit)
		assert.Equal(t, before, s.net.NodeStats("alice").Out.Sent, "an open from the cache sends nothing")
		assert.Equal(t, afs.ClientStats{Opens: 2, Hits: 1, Fetches: 1}, s.alice.Stats())
	})
}

func TestAStoreCallsTheOtherHoldersBackFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSystem(t, true)
		ctx := context.Background()
		_, _, err := s.alice.Open(ctx, "notes.txt")
		require.NoError(t, err)
		f, err := s.bob.Write(ctx, "notes.txt", "draft 2")
		require.NoError(t, err)
		assert.Equal(t, int64(2), f.Version)
		// The store has returned: alice's copy is gone already.
		got, hit, err := s.alice.Open(ctx, "notes.txt")
		require.NoError(t, err)
		assert.False(t, hit, "the callback voided alice's copy")
		assert.Equal(t, "draft 2", got.Data)
		assert.Equal(t, afs.ServerStats{Fetches: 2, Stores: 1, Broken: 1}, s.server.Stats())
	})
}

func TestWithoutCallbacksCopiesGoStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSystem(t, false)
		ctx := context.Background()
		_, _, err := s.alice.Open(ctx, "notes.txt")
		require.NoError(t, err)
		_, err = s.bob.Write(ctx, "notes.txt", "draft 2")
		require.NoError(t, err)
		got, hit, err := s.alice.Open(ctx, "notes.txt")
		require.NoError(t, err)
		assert.True(t, hit)
		assert.Equal(t, "draft 1", got.Data, "nobody told alice")
		assert.Equal(t, "draft 2", s.server.File("notes.txt").Data)
	})
}

func TestAnUndeliverableCallbackIsCountedAndTheStoreGoesOn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSystem(t, true)
		ctx := context.Background()
		_, _, err := s.alice.Open(ctx, "notes.txt")
		require.NoError(t, err)
		s.net.Partition([]string{"alice"}, []string{"server", "bob"})
		_, err = s.bob.Write(ctx, "notes.txt", "draft 2")
		require.NoError(t, err, "the store does not wait for ever for alice")
		assert.Equal(t, 1, s.server.Stats().Unreachable)
		got, hit, err := s.alice.Open(ctx, "notes.txt")
		require.NoError(t, err)
		assert.True(t, hit)
		assert.Equal(t, "draft 1", got.Data, "the promise could not be kept: alice reads a stale copy")
	})
}

func TestMissingFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := newSystem(t, true)
		_, _, err := s.alice.Open(context.Background(), "nosuch")
		assert.ErrorIs(t, err, afs.ErrNoFile)
	})
}
