package lock_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// What replication adds to the conformance suite: a leader's crash costs
// an election, not a lease, and tokens keep growing across it.

func TestLeaderCrashCostsOnlyAnElection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c := newCluster(t, 7, 3, lock.RaftConfig{TTL: ttl, LockDelay: lockDelay})
		a := lock.NewClient(c.caller(), lock.WithName("a"))
		defer a.Close()
		b := lock.NewClient(c.caller(), lock.WithName("b"))
		defer b.Close()

		ma := a.Mutex("x")
		la, err := ma.Lock(ctx)
		require.NoError(t, err)
		granted := make(chan *lock.Lease, 1)
		go func() {
			lb, err := b.Mutex("x").Lock(ctx)
			if err != nil {
				t.Error(err)
			}
			granted <- lb
		}()
		synctest.Wait()

		old := c.leader()
		c.crash(old)
		time.Sleep(2 * ttl) // several renewals' worth, across the election
		select {
		case <-la.Done():
			t.Fatalf("a's lease ended across the failover: %v", la.Err())
		default:
		}
		assert.NotEqual(t, old, c.leader(), "another replica leads")
		assert.Equal(t, []string{"b"}, c.servers[c.leader()].Locks()[0].Waiters, "b still waits, in its place")

		require.NoError(t, ma.Unlock(ctx))
		lb := <-granted
		require.NotNil(t, lb)
		assert.Greater(t, lb.Token(), la.Token(), "tokens grow across the failover")

		c.restart(old)
		l2, err := a.Mutex("y").Lock(ctx)
		require.NoError(t, err)
		assert.Greater(t, l2.Token(), lb.Token())
	})
}

func TestSnapshotsBoundTheLogAndARestartedReplicaCatchesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c := newCluster(t, 3, 3, lock.RaftConfig{TTL: ttl, LockDelay: lockDelay, MaxRaftState: 4 << 10})
		a := lock.NewClient(c.caller(), lock.WithName("a"))
		defer a.Close()
		m := a.Mutex("x")

		follower := c.leader()%3 + 1
		c.crash(follower)
		var last uint64
		for range 100 {
			l, err := m.Lock(ctx)
			require.NoError(t, err)
			require.Greater(t, l.Token(), last)
			last = l.Token()
			require.NoError(t, m.Unlock(ctx))
		}
		_, err := m.Lock(ctx)
		require.NoError(t, err)
		leader := c.servers[c.leader()]
		assert.Positive(t, leader.RSM().Stats().Snapshots, "the leader snapshotted its table")

		c.restart(follower)
		time.Sleep(time.Second) // the leader sends it the snapshot and the log after it
		assert.Positive(t, c.servers[follower].RSM().Stats().Restores, "the follower was sent a snapshot")
		assert.Equal(t, leader.Locks(), c.servers[follower].Locks())
	})
}

func TestNewRaftServerRejectsBadConfig(t *testing.T) {
	_, err := lock.NewRaftServer(lock.RaftConfig{})
	require.ErrorContains(t, err, "Listener is required")
	n := netsim.NewNetwork(1)
	defer n.Close()
	l, err := n.Listen("lock1")
	require.NoError(t, err)
	_, err = lock.NewRaftServer(lock.RaftConfig{Listener: l, TTL: -time.Second})
	require.ErrorContains(t, err, "TTL")
	_, err = n.Listen("lock1")
	require.NoError(t, err, "the listener was closed")
}

func TestClusterCallerWithoutAMajorityGivesUpWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 5, 3, lock.RaftConfig{TTL: ttl, LockDelay: lockDelay})
		cc := c.caller()
		cl := lock.NewClient(cc)
		defer cl.Close()
		_, err := cl.Mutex("x").Lock(t.Context())
		require.NoError(t, err)

		for id := range c.servers { // no majority: nothing can be served
			if id != 1 {
				c.crash(id)
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		_, err = cl.Mutex("y").Lock(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		require.NoError(t, cc.Close())
		err = cc.Call(t.Context(), "Lock.OpenSession", nil, nil)
		require.ErrorIs(t, err, lock.ErrClosed)
	})
}

// The log is the service's durable state: a power cut of every replica
// at once forgets no holder and reuses no token.
func TestWholeClusterPowerCutForgetsNoHolderAndReusesNoToken(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		c := newCluster(t, 11, 3, lock.RaftConfig{TTL: ttl, LockDelay: lockDelay, MaxRaftState: 2 << 10})
		a := lock.NewClient(c.caller(), lock.WithName("a"))
		defer a.Close()
		b := lock.NewClient(c.caller(), lock.WithName("b"))
		defer b.Close()
		w := a.Mutex("warm-up")
		for range 20 { // enough to snapshot
			_, err := w.Lock(ctx)
			require.NoError(t, err)
			require.NoError(t, w.Unlock(ctx))
		}
		ma := a.Mutex("x")
		la, err := ma.Lock(ctx)
		require.NoError(t, err)
		require.Positive(t, c.servers[c.leader()].RSM().Stats().Snapshots, "the restart starts from a snapshot")

		for id := uint64(1); id <= 3; id++ {
			c.crash(id)
		}
		time.Sleep(ttl / 2) // dark, for less than a TTL
		for id := uint64(1); id <= 3; id++ {
			c.restart(id)
		}

		_, err = b.Mutex("x").TryLock(ctx)
		require.ErrorIs(t, err, lock.ErrLocked, "the restarted cluster knows a holds x")
		require.NoError(t, la.Err(), "a's lease survived")
		require.NoError(t, ma.Unlock(ctx))
		lb, err := b.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		assert.Greater(t, lb.Token(), la.Token(), "tokens go on from where they were")
	})
}
