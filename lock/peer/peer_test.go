package peer_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock/peer"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// newGroup starts n peers, "p0" to "p<n-1>", on a simulated network with a
// small delay. Close them with the returned function.
func newGroup(tb testing.TB, net *netsim.Network, n int) ([]*peer.Peer, func()) {
	tb.Helper()
	require.NoError(tb, net.SetDefaultFaults(transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}))
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint("p", i)
	}
	peers := make([]*peer.Peer, n)
	for i, name := range names {
		others := make(map[string]string)
		for _, o := range names {
			if o != name {
				others[o] = o
			}
		}
		l, err := net.Listen(name)
		require.NoError(tb, err)
		p, err := peer.New(peer.Config{ID: name, Peers: others, Dialer: net.Dialer(name)}, l)
		require.NoError(tb, err)
		peers[i] = p
	}
	return peers, func() {
		for _, p := range peers {
			_ = p.Close()
		}
	}
}

func totalMessages(peers []*peer.Peer) (entries, messages uint64) {
	for _, p := range peers {
		s := p.Stats()
		entries += s.Entries
		messages += s.Messages()
	}
	return entries, messages
}

func TestAtMostOnePeerIsInItsCriticalSection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(7)
		defer net.Close()
		net.LogSeedOnFailure(t)
		const n, rounds = 5, 40
		peers, closeAll := newGroup(t, net, n)
		defer closeAll()

		var inside atomic.Int32
		var wg sync.WaitGroup
		for i, p := range peers {
			r := rand.New(rand.NewPCG(7, uint64(i)))
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					if err := p.Lock(ctx); err != nil {
						t.Error(err)
						return
					}
					if k := inside.Add(1); k != 1 {
						t.Errorf("%d peers in the critical section", k)
					}
					time.Sleep(time.Duration(r.Int64N(int64(3 * time.Millisecond))))
					inside.Add(-1)
					if err := p.Unlock(ctx); err != nil {
						t.Error(err)
						return
					}
					time.Sleep(time.Duration(r.Int64N(int64(3 * time.Millisecond))))
				}
			}()
		}
		wg.Wait()
		entries, messages := totalMessages(peers)
		assert.Equal(t, uint64(n*rounds), entries)
		assert.Equal(t, 2*(n-1)*entries, messages, "2(N-1) messages per entry, even under contention")
		var deferred uint64
		for _, p := range peers {
			deferred += p.Stats().Deferred
		}
		assert.Positive(t, deferred, "peers really competed")
	})
}

func TestEachEntryCosts2NMinus1Messages(t *testing.T) {
	for _, n := range []int{2, 3, 5, 8} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				net := netsim.NewNetwork(1)
				defer net.Close()
				peers, closeAll := newGroup(t, net, n)
				defer closeAll()
				for i := range 3 * n {
					p := peers[i%n]
					require.NoError(t, p.Lock(ctx))
					require.NoError(t, p.Unlock(ctx))
				}
				entries, messages := totalMessages(peers)
				assert.Equal(t, uint64(3*n), entries)
				assert.Equal(t, uint64(2*(n-1)*3*n), messages)
			})
		})
	}
}

func TestLamportClocksAdvanceWithEveryExchange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(1)
		defer net.Close()
		peers, closeAll := newGroup(t, net, 3)
		defer closeAll()
		require.NoError(t, peers[0].Lock(ctx))
		require.NoError(t, peers[0].Unlock(ctx))
		// p0 sent its request at time 1; p1 and p2 received it (2) and
		// replied (3); p0 received the replies, and is past 3.
		assert.Equal(t, uint64(3), peers[1].Clock())
		assert.Equal(t, uint64(3), peers[2].Clock())
		assert.Greater(t, peers[0].Clock(), uint64(3))
	})
}

func TestCrashedPeerBlocksEveryone(t *testing.T) {
	// Ricart–Agrawala needs every peer's permission, so one crashed peer
	// stops the whole group: no Lock can succeed, however long it waits.
	// A lock service with leases does not have this weakness.
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(1)
		defer net.Close()
		peers, closeAll := newGroup(t, net, 3)
		defer closeAll()
		require.NoError(t, peers[0].Lock(ctx)) // everyone is connected
		require.NoError(t, peers[0].Unlock(ctx))

		net.Crash("p2")
		for _, p := range peers[:2] {
			wctx, cancel := context.WithTimeout(ctx, time.Hour)
			err := p.Lock(wctx)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded, "%s entered without p2's permission", p.ID())
		}
	})
}

func TestPeerCrashedInsideItsCriticalSectionBlocksEveryone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(1)
		defer net.Close()
		peers, closeAll := newGroup(t, net, 3)
		defer closeAll()
		require.NoError(t, peers[1].Lock(ctx))
		net.Crash("p1") // it never says goodbye, and never releases
		wctx, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		require.ErrorIs(t, peers[0].Lock(wctx), context.DeadlineExceeded)
		assert.Zero(t, peers[0].Stats().Entries)
	})
}

func TestCloseInterruptsLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(1)
		defer net.Close()
		peers, closeAll := newGroup(t, net, 2)
		defer closeAll()
		require.NoError(t, peers[1].Lock(ctx))
		errs := make(chan error, 1)
		go func() { errs <- peers[0].Lock(ctx) }()
		synctest.Wait()
		require.NoError(t, peers[0].Close())
		require.ErrorIs(t, <-errs, peer.ErrClosed)
		require.ErrorIs(t, peers[0].Lock(ctx), peer.ErrClosed)
		require.NoError(t, peers[1].Unlock(ctx))
	})
}

func TestUnlockWithoutLockFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := netsim.NewNetwork(1)
		defer net.Close()
		peers, closeAll := newGroup(t, net, 2)
		defer closeAll()
		require.ErrorIs(t, peers[0].Unlock(t.Context()), peer.ErrNotHeld)
	})
}

func TestNewRejectsBadConfig(t *testing.T) {
	net := netsim.NewNetwork(1)
	defer net.Close()
	l, err := net.Listen("a")
	require.NoError(t, err)
	defer l.Close()
	_, err = peer.New(peer.Config{}, l)
	require.ErrorContains(t, err, "ID is required")
	_, err = peer.New(peer.Config{ID: "a", Peers: map[string]string{"a": "a"}}, l)
	require.ErrorContains(t, err, "lists itself")
}

func TestTwoPeersTakeTurns(t *testing.T) {
	// With two peers, each entry needs exactly one permission: the other
	// peer's. So every reply given from inside a critical section lets
	// the other peer in at the same time.
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(2)
		defer net.Close()
		net.LogSeedOnFailure(t)
		peers, closeAll := newGroup(t, net, 2)
		defer closeAll()

		var inside atomic.Int32
		var wg sync.WaitGroup
		for _, p := range peers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 20 {
					if err := p.Lock(ctx); err != nil {
						t.Error(err)
						return
					}
					if k := inside.Add(1); k != 1 {
						t.Errorf("%d peers in the critical section", k)
					}
					time.Sleep(10 * time.Millisecond) // far longer than a message takes
					inside.Add(-1)
					if err := p.Unlock(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		entries, messages := totalMessages(peers)
		assert.Equal(t, uint64(40), entries)
		assert.Equal(t, 2*entries, messages)
	})
}

func TestRequestWhileTheOnlyOtherPeerHoldsWaitsForItsUnlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(1)
		defer net.Close()
		peers, closeAll := newGroup(t, net, 2)
		defer closeAll()
		holder, asker := peers[0], peers[1]
		require.NoError(t, holder.Lock(ctx))

		entered := make(chan error, 1)
		go func() { entered <- asker.Lock(ctx) }()
		time.Sleep(time.Minute) // the request arrived long ago
		select {
		case err := <-entered:
			t.Fatalf("%s entered while %s held the lock (err %v)", asker.ID(), holder.ID(), err)
		default:
		}
		assert.Zero(t, holder.Stats().Replies, "the holder replied from inside its critical section")

		require.NoError(t, holder.Unlock(ctx))
		require.NoError(t, <-entered)
		assert.Equal(t, peer.Stats{Replies: 1, Deferred: 1, Entries: 1, Requests: 1}, holder.Stats())
		require.NoError(t, asker.Unlock(ctx))
	})
}
