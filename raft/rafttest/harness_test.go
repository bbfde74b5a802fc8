package rafttest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

// A leader on the minority side of a partition commits nothing; the
// majority elects a leader and commits; after the heal all agree.
func TestPartitionedLeaderCannotCommit(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed)
		first := c.One(cmd(1), servers, false)
		leader := c.CheckOneLeader()
		minority := []int{leader, (leader + 1) % servers}
		majority := []int{(leader + 2) % servers, (leader + 3) % servers, (leader + 4) % servers}
		c.Partition(minority, majority)
		index, _, ok := c.Server(leader).Start(cmd(2))
		assert.True(t, ok, "seed %d: the old leader still takes commands", seed)
		c.One(cmd(3), 3, true)
		n, _ := c.NCommitted(index)
		assert.Equal(t, first+1, index, "seed %d", seed)
		got, _ := c.Wait(index, 3, 0)
		assert.NotEqual(t, string(cmd(2)), string(got), "seed %d: the minority's command committed (%d servers)", seed, n)
		c.Heal()
		c.One(cmd(4), servers, true)
	})
}

// A leader whose messages to the others are lost, while theirs reach
// it, is replaced: the followers hear nothing and elect a new leader,
// whose higher term the old one learns.
func TestLeaderWhoseOutgoingLinksAreCutIsReplaced(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		c.One(cmd(1), servers, false)
		leader := c.CheckOneLeader()
		for k := 1; k < servers; k++ {
			c.CutLink(leader, (leader+k)%servers)
		}
		time.Sleep(2 * rafttest.ElectionTimeout)
		assert.NotEqual(t, leader, c.CheckOneLeader(), "seed %d: the silent leader was replaced", seed)
		_, isLeader := c.Server(leader).GetState()
		assert.False(t, isLeader, "seed %d: the old leader stepped down", seed)
		for k := 1; k < servers; k++ {
			c.HealLink(leader, (leader+k)%servers)
		}
		c.One(cmd(2), servers, true)
	})
}

// Long delays slow the cluster down, but nothing unsafe happens, and it
// recovers once the network is fast again.
func TestLongDelaysAreSafe(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed)
		c.One(cmd(1), servers, false)
		c.SetLongDelays(true)
		for i := range 20 {
			if srv := c.Server(c.Rand(servers)); srv != nil {
				srv.Start(cmd(100 + i))
			}
			time.Sleep(100 * time.Millisecond)
		}
		c.SetLongDelays(false)
		time.Sleep(2 * rafttest.LongDelay)
		c.One(cmd(2), servers, true)
	})
}
