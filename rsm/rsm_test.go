package rsm_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rsm"
)

func TestEveryReplicaAppliesTheSameCommandsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		for i := 1; i <= 5; i++ {
			assert.Equal(t, fmt.Sprint(i), c.submit(rsm.Request{Client: 7, Seq: uint64(i), Cmd: fmt.Appendf(nil, "c%d", i)}))
		}
		for id := range c.replicas {
			assert.Equal(t, "c1,c2,c3,c4,c5", c.read(id), "replica %d", id)
		}
	})
}

func TestRetryOfAnAppliedCommandReturnsItsResultWithoutApplyingAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		req := rsm.Request{Client: 9, Seq: 1, Cmd: []byte("once")}
		assert.Equal(t, "1", c.submit(req))
		// The reply was lost; the client retries, at a new leader.
		old := c.leader()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		to := old%3 + 1
		require.NoError(t, c.replicas[old].Node().TransferLeadership(ctx, to))
		assert.Equal(t, "1", c.submit(req), "the retry's result is the first's")
		assert.Equal(t, "2", c.submit(rsm.Request{Client: 9, Seq: 2, Cmd: []byte("next")}))
		for id, j := range c.journals {
			assert.Equal(t, "once,next", c.read(id))
			_, applies := j.count()
			assert.Equal(t, 2, applies, "replica %d applied a command twice", id)
		}
		assert.Equal(t, uint64(1), c.replicas[to].Stats().Duplicates)
	})
}

func TestCommandsWithoutASessionApplyEveryTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		req := rsm.Request{Cmd: []byte("again")}
		c.submit(req)
		assert.Equal(t, "2", c.submit(req), "client 0 has no session: the repeat applies")
	})
}

func TestOlderSequenceNumberIsStale(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		c.submit(rsm.Request{Client: 3, Seq: 1, Cmd: []byte("a")})
		c.submit(rsm.Request{Client: 3, Seq: 2, Cmd: []byte("b")})
		_, err := c.replicas[c.leader()].Submit(context.Background(), rsm.Request{Client: 3, Seq: 1, Cmd: []byte("a")})
		require.ErrorIs(t, err, rsm.ErrStaleRequest)
	})
}

func TestFollowerRefusesWithTheLeadersName(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		lead := c.leader()
		c.submit(rsm.Request{Client: 1, Seq: 1, Cmd: []byte("x")}) // followers have heard from the leader
		follower := lead%3 + 1
		_, err := c.replicas[follower].Submit(context.Background(), rsm.Request{Client: 1, Seq: 2, Cmd: []byte("y")})
		var nle *raft.NotLeaderError
		require.ErrorAs(t, err, &nle)
		assert.Equal(t, lead, nle.Leader)
		assert.Equal(t, c.addrs[lead], nle.LeaderAddr)
	})
}

// A new leader's first committed entry is its no-op, which raft.Node does
// not deliver: a read right after an election must not wait for a
// command that may never come.
func TestReadRightAfterAnElectionAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		lead := c.leader()
		assert.Equal(t, "", c.read(lead))
		for id := range c.replicas {
			assert.Equal(t, "", c.read(id), "replica %d", id)
		}
	})
}

// The gap the test above works around, stated against raft itself: the
// index ReadIndex returns can be one that Apply never delivers.
func TestRaftReadIndexCanNameAnIndexApplyNeverDelivers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		lead := c.leader()
		index, err := c.replicas[lead].Node().ReadIndex(context.Background())
		require.NoError(t, err)
		first, err := c.storage[lead].Entries(index, index+1, 1<<20)
		require.NoError(t, err)
		assert.Equal(t, raft.EntryNoop, first[0].Type, "the read index is the new leader's no-op, which Apply skips")
	})
}

func TestReadsThroughTheLog(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, rsm.WithReadsThroughLog())
		c.submit(rsm.Request{Client: 1, Seq: 1, Cmd: []byte("x")})
		assert.Equal(t, "x", c.read(c.leader()))
		assert.Equal(t, uint64(1), c.replicas[c.leader()].Stats().Queries)
		_, err := c.replicas[c.leader()%3+1].Read(context.Background(), nil)
		require.ErrorIs(t, err, raft.ErrNotLeader, "through the log, only the leader reads")
	})
}

func TestLeaderCutOffSaysMaybeApplied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		lead := c.leader()
		c.submit(rsm.Request{Client: 1, Seq: 1, Cmd: []byte("x")})
		var others []string
		for id, a := range c.addrs {
			if id != lead {
				others = append(others, a)
			}
		}
		c.net.Partition([]string{c.addrs[lead]}, others)
		_, err := c.replicas[lead].Submit(context.Background(), rsm.Request{Client: 1, Seq: 2, Cmd: []byte("y")})
		require.ErrorIs(t, err, rsm.ErrMaybeApplied)
		require.ErrorIs(t, err, raft.ErrNotLeader, "CheckQuorum deposed the cut-off leader")
		c.net.Heal()
		// The retry tells: it was not applied in the minority, so it is now, once.
		assert.Equal(t, "2", c.submit(rsm.Request{Client: 1, Seq: 2, Cmd: []byte("y")}))
		assert.Equal(t, "x,y", c.read(c.leader()))
	})
}

func TestSnapshotsBoundTheLogAndKeepSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const max = 1000
		c := newCluster(t, 3, rsm.WithMaxRaftState(max))
		for i := 1; i <= 200; i++ {
			c.submit(rsm.Request{Client: 5, Seq: uint64(i), Cmd: fmt.Appendf(nil, "%03d", i)})
		}
		for id := range c.replicas {
			c.read(id) // caught up, and so snapshotted
		}
		synctest.Wait()
		for id := range c.replicas {
			assert.Less(t, c.logBytes(id), 2*max, "replica %d's log", id)
			assert.NotZero(t, c.replicas[id].Stats().Snapshots, "replica %d", id)
		}
		// A restarted replica rebuilds from its snapshot and log, sessions
		// included: the latest command, retried, is not applied again.
		lead := c.leader()
		c.stop(lead)
		c.start(lead)
		assert.Equal(t, "200", c.submit(rsm.Request{Client: 5, Seq: 200, Cmd: []byte("200")}))
		lines, _ := c.journals[lead].count()
		assert.Equal(t, 200, lines)
	})
}

func TestLaggingFollowerCatchesUpFromASnapshot(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, rsm.WithMaxRaftState(500))
		lead := c.leader()
		lag := lead%3 + 1
		c.net.Disconnect(c.addrs[lag])
		for i := 1; i <= 100; i++ {
			c.submit(rsm.Request{Client: 2, Seq: uint64(i), Cmd: fmt.Appendf(nil, "%d", i)})
		}
		c.net.Reconnect(c.addrs[lag])
		want := c.read(c.leader())
		assert.Equal(t, want, c.read(lag))
		assert.NotZero(t, c.replicas[lag].Stats().Restores)
	})
}

func TestCloseAnswersWaitingCallsAndLaterOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3)
		lead := c.leader()
		c.net.Partition([]string{c.addrs[lead]})
		r := c.replicas[lead]
		errc := make(chan error, 1)
		go func() {
			_, err := r.Submit(context.Background(), rsm.Request{Client: 1, Seq: 1, Cmd: []byte("x")})
			errc <- err
		}()
		synctest.Wait()
		c.stop(lead)
		err := <-errc
		assert.True(t, errors.Is(err, rsm.ErrClosed) || errors.Is(err, rsm.ErrMaybeApplied), "got %v", err)
		_, err = r.Submit(context.Background(), rsm.Request{Client: 1, Seq: 1})
		require.ErrorIs(t, err, rsm.ErrClosed)
		_, err = r.Read(context.Background(), nil)
		require.ErrorIs(t, err, rsm.ErrClosed)
		require.NoError(t, r.Close(), "a second Close")
	})
}
