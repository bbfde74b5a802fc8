package rafttest_test

import (
	"testing"
	"time"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

// The Figure 8 scenario again, with each server on a raft/wal log whose
// file system loses (and tears) what was not synced at every crash.
func TestFigure8OnAWriteAheadLogThatLosesUnsyncedWrites(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 5
		c := rafttest.New(t, servers, seed, rafttest.WithWAL(true))
		c.One(randCmd(c), 1, true)
		up := servers
		for range 200 {
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

// Snapshots survive crashes of every server on raft/wal logs.
func TestSnapshotAllCrashOnAWriteAheadLog(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed, rafttest.WithWAL(true), rafttest.WithSnapshots(rafttest.SnapshotInterval))
		c.One(randCmd(c), servers, true)
		for range 5 {
			for range rafttest.SnapshotInterval + c.Rand(rafttest.SnapshotInterval) {
				c.One(randCmd(c), servers, true)
			}
			index1 := c.One(randCmd(c), servers, true)
			crashAndRestartAll(c, servers)
			if index2 := c.One(randCmd(c), servers, true); index2 <= index1 {
				t.Fatalf("seed %d: the index went back from %d to %d", seed, index1, index2)
			}
		}
	})
}
