package rafttest_test

// MIT 6.5840 Lab 3C: persistence. A server restarted by Start comes back
// from its storage (a raft.MemoryStorage; WithWAL for raft/wal).

import (
	"testing"
	"time"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

func TestPersist13C(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		c.One(cmd(11), servers, true)

		// Crash and restart all.
		for i := range servers {
			c.Start(i)
		}
		for i := range servers {
			c.Disconnect(i)
			c.Connect(i)
		}
		c.One(cmd(12), servers, true)

		leader1 := c.CheckOneLeader()
		c.Disconnect(leader1)
		c.Start(leader1)
		c.Connect(leader1)
		c.One(cmd(13), servers, true)

		leader2 := c.CheckOneLeader()
		c.Disconnect(leader2)
		index := c.One(cmd(14), servers-1, true)
		c.Start(leader2)
		c.Connect(leader2)
		c.Wait(index, servers, 0) // leader2 catches up before i3 goes

		i3 := (c.CheckOneLeader() + 1) % servers
		c.Disconnect(i3)
		c.One(cmd(15), servers-1, true)
		c.Start(i3)
		c.Connect(i3)
		c.One(cmd(16), servers, true)
	})
}

func TestPersist23C(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed)
		index := 1
		for range 5 {
			c.One(cmd(10+index), servers, true)
			index++

			leader1 := c.CheckOneLeader()
			c.Disconnect((leader1 + 1) % servers)
			c.Disconnect((leader1 + 2) % servers)
			c.One(cmd(10+index), servers-2, true)
			index++

			c.Disconnect((leader1 + 0) % servers)
			c.Disconnect((leader1 + 3) % servers)
			c.Disconnect((leader1 + 4) % servers)

			c.Start((leader1 + 1) % servers)
			c.Start((leader1 + 2) % servers)
			c.Connect((leader1 + 1) % servers)
			c.Connect((leader1 + 2) % servers)
			time.Sleep(rafttest.ElectionTimeout)

			c.Start((leader1 + 3) % servers)
			c.Connect((leader1 + 3) % servers)
			c.One(cmd(10+index), servers-2, true)
			index++

			c.Connect((leader1 + 4) % servers)
			c.Connect((leader1 + 0) % servers)
		}
		c.One(cmd(1000), servers, true)
	})
}

func TestPersist33C(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed)
		c.One(cmd(101), 3, true)

		leader := c.CheckOneLeader()
		c.Disconnect((leader + 2) % servers)
		c.One(cmd(102), 2, true)

		c.Crash((leader + 0) % servers)
		c.Crash((leader + 1) % servers)
		c.Connect((leader + 2) % servers)
		c.Start((leader + 0) % servers)
		c.Connect((leader + 0) % servers)
		c.One(cmd(103), 2, true)

		c.Start((leader + 1) % servers)
		c.Connect((leader + 1) % servers)
		c.One(cmd(104), servers, true)
	})
}

// figure8Pause is MIT's pause between the rounds of the Figure 8 tests:
// one time in ten up to half an election timeout, else up to 13ms.
func figure8Pause(c *rafttest.Cluster) time.Duration {
	if c.Rand(1000) < 100 {
		return time.Duration(c.Rand(int(rafttest.ElectionTimeout/time.Millisecond)/2)) * time.Millisecond
	}
	return time.Duration(c.Rand(13)) * time.Millisecond
}

// The scenarios of the paper's Figure 8: leaders crash soon after they
// take a command, perhaps before committing it, and new leaders must not
// commit an earlier term's entries by counting replicas.
func TestFigure83C(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed)
		c.One(randCmd(c), 1, true)
		up := servers
		for range 1000 {
			leader := -1
			for i := range servers {
				if srv := c.Server(i); srv != nil {
					if _, _, ok := srv.Start(randCmd(c)); ok {
						leader = i
					}
				}
			}
			time.Sleep(figure8Pause(c))
			if leader != -1 {
				c.Crash(leader)
				up--
			}
			if up < 3 {
				if s := c.Rand(servers); !c.Up(s) {
					c.Start(s)
					c.Connect(s)
					up++
				}
			}
		}
		for i := range servers {
			if !c.Up(i) {
				c.Start(i)
				c.Connect(i)
			}
		}
		c.One(randCmd(c), servers, true)
	})
}
