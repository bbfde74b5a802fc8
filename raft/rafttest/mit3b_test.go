package rafttest_test

// MIT 6.5840 Lab 3B: log replication.

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

// The library's leaders begin their term with a no-op entry (§8), so
// the first command is not at index 1 as in MIT's tests, where a Raft
// has no no-ops; from then on, with one leader, the commands take
// consecutive indexes, which is what these tests check.
func TestBasicAgree3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		next := uint64(0)
		for k := 1; k <= 3; k++ {
			if next != 0 {
				n, _ := c.NCommitted(next)
				require.Zero(t, n, "seed %d: some have committed before Start()", seed)
			}
			got := c.One(cmd(k*100), servers, false)
			if next != 0 {
				require.Equal(t, next, got, "seed %d: the index of the command", seed)
			}
			next = got + 1
		}
	})
}

// Each command is sent to each peer once: the bytes sent stay within the
// commands' size times the servers, plus 50000.
func TestRPCBytes3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		index := c.One(cmd(99), servers, false)
		bytes0 := c.BytesTotal()
		var sent int64
		for range 10 {
			index++
			command := []byte(strings.Repeat(string(rune('a'+c.Rand(26))), 5000))
			got := c.One(command, servers, false)
			require.Equal(t, index, got, "seed %d: the index of the command", seed)
			sent += int64(len(command))
		}
		got := c.BytesTotal() - bytes0
		assert.LessOrEqual(t, got, servers*sent+50000, "seed %d: too many RPC bytes", seed)
	})
}

func TestFollowerFailure3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		c.One(cmd(101), servers, false)

		// The leader and the remaining follower agree without the
		// disconnected follower.
		leader1 := c.CheckOneLeader()
		c.Disconnect((leader1 + 1) % servers)
		c.One(cmd(102), servers-1, false)
		time.Sleep(rafttest.ElectionTimeout)
		last := c.One(cmd(103), servers-1, false)

		// Without both followers, nothing commits.
		leader2 := c.CheckOneLeader()
		c.Disconnect((leader2 + 1) % servers)
		c.Disconnect((leader2 + 2) % servers)
		index, _, ok := c.Server(leader2).Start(cmd(104))
		require.True(t, ok, "seed %d: the leader rejected Start()", seed)
		require.Equal(t, last+1, index, "seed %d", seed) // MIT: 4
		time.Sleep(2 * rafttest.ElectionTimeout)
		n, _ := c.NCommitted(index)
		assert.Zero(t, n, "seed %d: committed without a majority", seed)
	})
}

func TestLeaderFailure3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		c.One(cmd(101), servers, false)

		// The remaining followers elect a new leader.
		leader1 := c.CheckOneLeader()
		c.Disconnect(leader1)
		c.One(cmd(102), servers-1, false)
		time.Sleep(rafttest.ElectionTimeout)
		last := c.One(cmd(103), servers-1, false)

		// Without the new leader, nothing commits.
		leader2 := c.CheckOneLeader()
		c.Disconnect(leader2)
		for i := range servers {
			c.Server(i).Start(cmd(104))
		}
		time.Sleep(2 * rafttest.ElectionTimeout)
		n, _ := c.NCommitted(last + 1) // MIT: 4
		assert.Zero(t, n, "seed %d: committed without a majority", seed)
	})
}

// A follower takes part again after it reconnects.
func TestFailAgree3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		c.One(cmd(101), servers, false)

		leader := c.CheckOneLeader()
		c.Disconnect((leader + 1) % servers)
		c.One(cmd(102), servers-1, false)
		c.One(cmd(103), servers-1, false)
		time.Sleep(rafttest.ElectionTimeout)
		c.One(cmd(104), servers-1, false)
		c.One(cmd(105), servers-1, false)

		// All servers keep what was agreed, and agree on more.
		c.Connect((leader + 1) % servers)
		c.One(cmd(106), servers, true)
		time.Sleep(rafttest.ElectionTimeout)
		c.One(cmd(107), servers, true)
	})
}

func TestFailNoAgree3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed)
		first := c.One(cmd(10), servers, false)

		// Three of five followers disconnect.
		leader := c.CheckOneLeader()
		for k := 1; k <= 3; k++ {
			c.Disconnect((leader + k) % servers)
		}
		index, _, ok := c.Server(leader).Start(cmd(20))
		require.True(t, ok, "seed %d: the leader rejected Start()", seed)
		require.Equal(t, first+1, index, "seed %d", seed) // MIT: 2
		time.Sleep(2 * rafttest.ElectionTimeout)
		n, _ := c.NCommitted(index)
		assert.Zero(t, n, "seed %d: committed without a majority", seed)

		// Repair. The majority may have elected a leader of its own,
		// forgetting index first+1; a new leader's no-op may come
		// before the command (MIT: 2 to 3).
		for k := 1; k <= 3; k++ {
			c.Connect((leader + k) % servers)
		}
		leader2 := c.CheckOneLeader()
		index2, _, ok := c.Server(leader2).Start(cmd(30))
		require.True(t, ok, "seed %d: leader2 rejected Start()", seed)
		assert.True(t, index2 > first && index2 <= first+3, "seed %d: unexpected index %d", seed, index2)
		c.One(cmd(1000), servers, true)
	})
}

func TestConcurrentStarts3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		for try := range 5 {
			if try > 0 {
				time.Sleep(3 * time.Second) // let the cluster settle
			}
			leader := c.CheckOneLeader()
			srv := c.Server(leader)
			_, term, ok := srv.Start(cmd(1))
			if !ok {
				continue // the leader moved on quickly
			}
			const iters = 5
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				indexes []uint64
			)
			for i := range iters {
				wg.Go(func() {
					index, term1, ok := srv.Start(cmd(100 + i))
					if ok && term1 == term {
						mu.Lock()
						indexes = append(indexes, index)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if termChanged(c, servers, term) {
				continue
			}
			var cmds []string
			failed := false
			for _, index := range indexes {
				got, ok := c.Wait(index, servers, term)
				if !ok {
					failed = true // the term moved on: not every Start can succeed
					break
				}
				cmds = append(cmds, string(got))
			}
			if failed {
				continue
			}
			for i := range iters {
				require.Contains(t, cmds, string(cmd(100+i)), "seed %d: a command is missing", seed)
			}
			return
		}
		t.Fatalf("seed %d: the term changed too often", seed)
	})
}

// termChanged reports whether a server has moved past term.
func termChanged(c *rafttest.Cluster, servers int, term uint64) bool {
	for j := range servers {
		if srv := c.Server(j); srv != nil {
			if t, _ := srv.GetState(); t != term {
				return true
			}
		}
	}
	return false
}

// A partitioned leader comes back and its uncommitted entries give way.
func TestRejoin3B(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		c.One(cmd(101), servers, true)

		// The old leader, cut off, takes entries it cannot commit.
		leader1 := c.CheckOneLeader()
		c.Disconnect(leader1)
		for _, x := range []int{102, 103, 104} {
			c.Server(leader1).Start(cmd(x))
		}

		// The new leader commits, also at index 2.
		c.One(cmd(103), 2, true)

		// The new leader is cut off; the old one comes back.
		leader2 := c.CheckOneLeader()
		c.Disconnect(leader2)
		c.Connect(leader1)
		c.One(cmd(104), 2, true)

		// All together now.
		c.Connect(leader2)
		c.One(cmd(105), servers, true)
	})
}
