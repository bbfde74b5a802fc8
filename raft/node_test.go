package raft_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
)

func TestNodesElectALeaderAndReplicate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		c.waitLeader()
		for _, cmd := range []string{"a", "b", "c"} {
			c.commit(cmd)
		}
		for _, id := range c.ids() {
			assert.Equal(t, []string{"a", "b", "c"}, c.commands(id), "node %d", id)
		}
	})
}

func TestProposeOnAFollowerNamesTheLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		l := c.waitLeader()
		f := l%3 + 1
		_, _, err := c.nodes[f].Propose(context.Background(), []byte("x"))
		var nle *raft.NotLeaderError
		require.ErrorAs(t, err, &nle)
		assert.Equal(t, l, nle.Leader)
		assert.Equal(t, c.addrs[l], nle.LeaderAddr)
		assert.ErrorIs(t, err, raft.ErrNotLeader)
	})
}

// A crashed leader is replaced within two election timeouts: the
// followers time out within one, and an election takes a round trip
// (more only if votes split).
func TestLeaderCrashNewLeaderWithinTwoElectionTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		c.commit("a")
		old := c.waitLeader()
		c.crash(old)
		start := time.Now()
		l := c.waitLeader()
		assert.NotEqual(t, old, l)
		assert.LessOrEqual(t, time.Since(start), 2*electionTimeout)
		c.commit("b")

		c.restart(old)
		c.commit("c")
		assert.Equal(t, []string{"a", "b", "c"}, c.commands(old), "the old leader caught up")
	})
}

// A node restarted on the storage it kept comes back with its log, and
// applies the committed commands again (its state machine starts empty).
func TestNodeRestartsWithTheStorageItKept(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		c.commit("a")
		c.commit("b")
		l := c.waitLeader()
		f := l%3 + 1
		termBefore := c.nodes[f].Status().Term
		c.stop(f)
		n := c.start(f)
		assert.GreaterOrEqual(t, n.Status().Term, termBefore)
		c.commit("c")
		assert.Equal(t, []string{"a", "b", "c"}, c.commands(f))
	})
}

func TestReadIndexOnLeaderAndFollower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		i := c.commit("a")
		l := c.waitLeader()
		for _, id := range c.ids() {
			ri, err := c.nodes[id].ReadIndex(context.Background())
			require.NoError(t, err, "node %d", id)
			assert.GreaterOrEqual(t, ri, i, "node %d: a read must see the write that completed before it", id)
		}
		c.crash(l)
		c.crash(l%3 + 1)
		ctx, cancel := context.WithTimeout(context.Background(), electionTimeout)
		defer cancel()
		_, err := c.nodes[c.ids()[0]].ReadIndex(ctx)
		require.Error(t, err, "no majority, no read")
	})
}

func TestTransferLeadership(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		c.commit("a")
		l := c.waitLeader()
		to := l%3 + 1
		require.NoError(t, c.nodes[l].TransferLeadership(context.Background(), to))
		assert.Equal(t, to, c.waitLeader())
		err := c.nodes[l].TransferLeadership(context.Background(), to)
		assert.ErrorIs(t, err, raft.ErrNotLeader, "no longer the leader")
		c.commit("b")
	})
}

// The application snapshots; a node that was away gets the snapshot
// instead of the entries it covers, then the rest.
func TestSnapshotIsSentToANodeThatMissedCompactedEntries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		c.commit("a")
		l := c.waitLeader()
		away := l%3 + 1
		c.crash(away)
		i := c.commit("b")
		require.NoError(t, c.nodes[l].Snapshot(i, []byte("a,b")))
		require.ErrorIs(t, c.nodes[l].Snapshot(i, nil), raft.ErrSnapshotOutOfDate)
		require.ErrorIs(t, c.nodes[l].Snapshot(i+100, nil), raft.ErrSnapshotIndex)

		c.restart(away)
		c.commit("c")
		c.mu.Lock()
		got := c.applied[away]
		c.mu.Unlock()
		require.NotEmpty(t, got)
		assert.Equal(t, "a,b", string(got[0].Snapshot.Data), "it installed the snapshot")
		assert.Equal(t, []string{"c"}, c.commands(away))
	})
}

func TestCloseStopsEverything(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		l := c.waitLeader()
		n := c.nodes[l]
		c.stop(l)
		require.NoError(t, n.Close(), "Close is idempotent")
		_, _, err := n.Propose(context.Background(), []byte("x"))
		require.ErrorIs(t, err, raft.ErrClosed)
		_, err = n.ReadIndex(context.Background())
		require.ErrorIs(t, err, raft.ErrClosed)
		require.ErrorIs(t, n.Snapshot(1, nil), raft.ErrClosed)
		require.ErrorIs(t, n.TransferLeadership(context.Background(), 1), raft.ErrClosed)
		_, open := <-n.Apply()
		assert.False(t, open, "Apply is closed")
		assert.Equal(t, raft.Leader, n.Status().State, "the status when it stopped")
		<-n.Done()
		assert.NoError(t, n.Err(), "closed, not failed")
	})
}

// errStorage fails every Save after the first n.
type errStorage struct {
	*raft.MemoryStorage
	saves int
}

var errDiskFull = errors.New("disk full")

func (s *errStorage) Save(hs raft.HardState, ents []raft.Entry) error {
	if s.saves == 0 {
		return errDiskFull
	}
	s.saves--
	return s.MemoryStorage.Save(hs, ents)
}

// A node that cannot save stops: it must not send what it could not make
// durable. Done tells, and Err and its calls say why.
func TestNodeStopsWhenStorageFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1, func(cfg *raft.NodeConfig) {
			cfg.Storage = &errStorage{MemoryStorage: raft.NewMemoryStorage(), saves: 0}
		})
		n := c.nodes[1]
		assert.NoError(t, n.Err(), "running")
		<-n.Done() // it campaigns, and fails to save its vote
		require.ErrorIs(t, n.Err(), errDiskFull)
		_, _, err := n.Propose(context.Background(), []byte("x"))
		require.ErrorIs(t, err, raft.ErrClosed)
		require.ErrorIs(t, err, errDiskFull)
		require.ErrorIs(t, n.Close(), errDiskFull)
		delete(c.nodes, 1)
	})
}

func TestNewNodeRejectsABadConfig(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 1)
		l, err := c.net.Listen("other")
		require.NoError(t, err)
		_, err = raft.NewNode(raft.NodeConfig{Config: raft.Config{ID: 1, Peers: []uint64{1, 2}, Storage: raft.NewMemoryStorage()},
			Addrs: map[uint64]string{1: "a"}, Listener: l, Dialer: c.net.Dialer("other")})
		require.ErrorIs(t, err, raft.ErrInvalidConfig)
		_, err = l.Accept(context.Background())
		require.Error(t, err, "NewNode closed the listener")
		_, err = raft.NewNode(raft.NodeConfig{Config: raft.Config{ID: 1, Storage: raft.NewMemoryStorage()}, Addrs: map[uint64]string{1: "a"}})
		require.ErrorIs(t, err, raft.ErrInvalidConfig)
	})
}
