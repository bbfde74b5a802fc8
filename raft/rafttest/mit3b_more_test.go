package rafttest_test

// MIT 6.5840 Lab 3B, continued: backing up over wrong logs, and the
// number of RPCs.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

// A leader backs up quickly over followers' wrong logs (50 entries that
// never commit, twice).
func TestBackup3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed)
		c.One(randCmd(c), servers, true)

		// The leader and one follower in a partition of their own.
		leader1 := c.CheckOneLeader()
		for k := 2; k <= 4; k++ {
			c.Disconnect((leader1 + k) % servers)
		}

		// Lots of commands that will not commit.
		for range 50 {
			c.Server(leader1).Start(randCmd(c))
		}
		time.Sleep(rafttest.ElectionTimeout / 2)
		c.Disconnect(leader1)
		c.Disconnect((leader1 + 1) % servers)

		// The other three recover, and commit lots.
		for k := 2; k <= 4; k++ {
			c.Connect((leader1 + k) % servers)
		}
		for range 50 {
			c.One(randCmd(c), 3, true)
		}

		// Another partitioned leader and one follower.
		leader2 := c.CheckOneLeader()
		other := (leader1 + 2) % servers
		if leader2 == other {
			other = (leader2 + 1) % servers
		}
		c.Disconnect(other)

		// Lots more commands that will not commit.
		for range 50 {
			c.Server(leader2).Start(randCmd(c))
		}
		time.Sleep(rafttest.ElectionTimeout / 2)

		// The original leader's group comes back, with other.
		for i := range servers {
			c.Disconnect(i)
		}
		c.Connect(leader1)
		c.Connect((leader1 + 1) % servers)
		c.Connect(other)
		for range 50 {
			c.One(randCmd(c), 3, true)
		}

		// Now everyone.
		for i := range servers {
			c.Connect(i)
		}
		c.One(randCmd(c), servers, true)
	})
}

// RPC counts are not too high: to elect a leader, to agree on ten
// entries, and in a second of idleness.
func TestCount3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		c.CheckOneLeader()
		total1 := c.RPCCount()
		require.True(t, total1 >= 1 && total1 <= 30, "seed %d: too many or few RPCs (%d) to elect the first leader", seed, total1)

		var total2 int64
		success := false
	tries:
		for try := range 5 {
			if try > 0 {
				time.Sleep(3 * time.Second) // let the cluster settle
			}
			leader := c.CheckOneLeader()
			total1 = c.RPCCount()
			const iters = 10
			srv := c.Server(leader)
			starti, term, ok := srv.Start(cmd(1))
			if !ok {
				continue // the leader moved on quickly
			}
			var cmds [][]byte
			for i := uint64(1); i < iters+2; i++ {
				x := randCmd(c)
				cmds = append(cmds, x)
				index1, term1, ok := srv.Start(x)
				if !ok || term1 != term {
					continue tries // the term changed while starting
				}
				require.Equal(t, starti+i, index1, "seed %d: Start() failed", seed)
			}
			for i := uint64(1); i < iters+1; i++ {
				got, ok := c.Wait(starti+i, servers, term)
				if !ok {
					continue tries // the term changed: try again
				}
				require.Equal(t, string(cmds[i-1]), string(got), "seed %d: wrong value committed at index %d", seed, starti+i)
			}
			total2 = c.RPCCount()
			if termChanged(c, servers, term) {
				continue // the term changed: RPC counts cannot be expected to be low
			}
			// MIT's bound, (iters+1+3)*3, plus one RPC per follower
			// per entry: the library's leader tells its followers of
			// each commit at once (as etcd raft does), where MIT's
			// Rafts wait for the next heartbeat to say it.
			bound := int64((iters+1+3)*3 + (iters+1)*(servers-1))
			require.LessOrEqual(t, total2-total1, bound, "seed %d: too many RPCs for %d entries", seed, iters)
			success = true
			break
		}
		require.True(t, success, "seed %d: the term changed too often", seed)

		time.Sleep(rafttest.ElectionTimeout)
		total3 := c.RPCCount()
		require.LessOrEqual(t, total3-total2, int64(3*20), "seed %d: too many RPCs for 1 second of idleness", seed)
	})
}
