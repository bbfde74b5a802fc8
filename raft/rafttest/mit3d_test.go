package rafttest_test

// MIT 6.5840 Lab 3D: log compaction. The harness's application snapshots
// every rafttest.SnapshotInterval commands (WithSnapshots), as MIT's
// applierSnap does.

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft/rafttest"
)

// maxLogSize is MIT's MAXLOGSIZE: with snapshots, a server's log must
// stay below it.
const maxLogSize = 2000

// snapCommon is MIT's snapcommon: 30 rounds of commands enough for a
// snapshot, with a follower (or, one round in three, the leader)
// disconnected or crashed meanwhile, so that it needs InstallSnapshot to
// catch up.
func snapCommon(t *testing.T, seed int64, disconnect, reliable, crash bool) {
	const servers = 3
	opts := []rafttest.Option{rafttest.WithSnapshots(rafttest.SnapshotInterval)}
	if !reliable {
		opts = append(opts, rafttest.WithUnreliable())
	}
	c := rafttest.New(t, servers, seed, opts...)
	c.One(randCmd(c), servers, true)
	leader1 := c.CheckOneLeader()
	for i := range 30 {
		victim, sender := (leader1+1)%servers, leader1
		if i%3 == 1 {
			sender, victim = (leader1+1)%servers, leader1
		}
		if disconnect {
			c.Disconnect(victim)
			c.One(randCmd(c), servers-1, true)
		}
		if crash {
			c.Crash(victim)
			c.One(randCmd(c), servers-1, true)
		}

		// Perhaps enough for a snapshot.
		nn := rafttest.SnapshotInterval/2 + c.Rand(rafttest.SnapshotInterval)
		for range nn {
			if srv := c.Server(sender); srv != nil {
				srv.Start(randCmd(c))
			}
		}

		// Let the appliers catch up with the Starts; with nobody
		// away, make sure all followers have, so that no
		// InstallSnapshot is needed in TestSnapshotBasic3D.
		if !disconnect && !crash {
			c.One(randCmd(c), servers, true)
		} else {
			c.One(randCmd(c), servers-1, true)
		}
		require.Less(t, c.LogSize(), maxLogSize, "seed %d: log size too large", seed)

		// The victim returns, perhaps behind, and catches up with a
		// snapshot.
		if disconnect {
			c.Connect(victim)
			c.One(randCmd(c), servers, true)
			leader1 = c.CheckOneLeader()
		}
		if crash {
			c.Start(victim)
			c.Connect(victim)
			c.One(randCmd(c), servers, true)
			leader1 = c.CheckOneLeader()
		}
	}
	if disconnect || crash {
		require.Positive(t, c.SnapshotsInstalled(), "seed %d: no server ever needed a snapshot: the test did not test it", seed)
	}
}

func TestSnapshotBasic3D(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) { snapCommon(t, seed, false, true, false) })
}

func TestSnapshotInstall3D(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) { snapCommon(t, seed, true, true, false) })
}

func TestSnapshotInstallUnreliable3D(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) { snapCommon(t, seed, true, false, false) })
}

func TestSnapshotInstallCrash3D(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) { snapCommon(t, seed, false, true, true) })
}

func TestSnapshotInstallUnCrash3D(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) { snapCommon(t, seed, false, false, true) })
}

// Do the servers keep their snapshots, and restart from a snapshot and
// the rest of the log?
func TestSnapshotAllCrash3D(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed, rafttest.WithSnapshots(rafttest.SnapshotInterval))
		c.One(randCmd(c), servers, true)
		for range 5 {
			nn := rafttest.SnapshotInterval/2 + c.Rand(rafttest.SnapshotInterval)
			for range nn {
				c.One(randCmd(c), servers, true)
			}
			index1 := c.One(randCmd(c), servers, true)
			crashAndRestartAll(c, servers)
			index2 := c.One(randCmd(c), servers, true)
			require.Greater(t, index2, index1, "seed %d: the index went back", seed)
		}
	})
}

func crashAndRestartAll(c *rafttest.Cluster, servers int) {
	for i := range servers {
		c.Crash(i)
	}
	for i := range servers {
		c.Start(i)
		c.Connect(i)
	}
}

// Do servers set up their copy of the snapshot on a restart, so that
// later writes of their state do not lose it?
func TestSnapshotInit3D(t *testing.T) {
	seeded(t, func(t *testing.T, seed int64) {
		const servers = 3
		c := rafttest.New(t, servers, seed, rafttest.WithSnapshots(rafttest.SnapshotInterval))
		c.One(randCmd(c), servers, true)
		for range rafttest.SnapshotInterval + 1 { // enough for a snapshot
			c.One(randCmd(c), servers, true)
		}
		crashAndRestartAll(c, servers)
		c.One(randCmd(c), servers, true) // something written back to storage
		crashAndRestartAll(c, servers)
		c.One(randCmd(c), servers, true) // would trip on a lost snapshot
	})
}
