package rafttest_test

// MIT 6.5840 Lab 3A: leader election. Each test follows MIT's
// test_test.go step for step, with its server counts and thresholds, on
// the harness in virtual time.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

func TestInitialElection3A(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		c := rafttest.New(t, 3, seed)
		c.CheckOneLeader()

		// Let the followers learn of the election, then check that all
		// agree on the term.
		time.Sleep(50 * time.Millisecond)
		term1 := c.CheckTerms()
		assert.GreaterOrEqual(t, term1, uint64(1), "seed %d: the term", seed)

		// Without failures, the term stays the same.
		time.Sleep(2 * rafttest.ElectionTimeout)
		term2 := c.CheckTerms()
		assert.Equal(t, term1, term2, "seed %d: the term changed without failures", seed)
		c.CheckOneLeader()
	})
}

func TestReElection3A(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		leader1 := c.CheckOneLeader()

		// If the leader disconnects, a new one is elected.
		c.Disconnect(leader1)
		c.CheckOneLeader()

		// The old leader rejoining does not disturb the new one.
		c.Connect(leader1)
		leader2 := c.CheckOneLeader()

		// Without a quorum, no leader is elected.
		c.Disconnect(leader2)
		c.Disconnect((leader2 + 1) % servers)
		time.Sleep(2 * rafttest.ElectionTimeout)
		c.CheckNoLeader()

		// A quorum elects a leader.
		c.Connect((leader2 + 1) % servers)
		c.CheckOneLeader()

		// The last server rejoining does not prevent a leader.
		c.Connect(leader2)
		c.CheckOneLeader()
	})
}

func TestManyElections3A(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 7
		c := rafttest.New(t, servers, seed)
		c.CheckOneLeader()
		for range 9 {
			// Disconnect three servers (perhaps fewer: the same one
			// may be drawn twice).
			i1, i2, i3 := c.Rand(servers), c.Rand(servers), c.Rand(servers)
			c.Disconnect(i1)
			c.Disconnect(i2)
			c.Disconnect(i3)

			// Either the leader is still connected, or the other four
			// elect a new one.
			c.CheckOneLeader()

			c.Connect(i1)
			c.Connect(i2)
			c.Connect(i3)
		}
		c.CheckOneLeader()
	})
}
