package wal_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

const tick = 10 * time.Millisecond

// walCluster is raft.Nodes on a simulated network, each keeping its
// state in a WAL on a disk of its own (a vfs.Mem), which a test can cut
// the power of. Make it inside a synctest bubble.
type walCluster struct {
	t     *testing.T
	net   *netsim.Network
	addrs map[uint64]string
	disks map[uint64]*vfs.Mem
	wals  map[uint64]*wal.Storage
	nodes map[uint64]*raft.Node
	wrap  func(disk *vfs.Mem, c transport.Conn) transport.Conn // for the conns a node dials

	readers map[uint64]*sync.WaitGroup // per node, its goroutine reading Apply
	mu      sync.Mutex                 // protects applied
	applied map[uint64][]string
}

func newWALCluster(t *testing.T, n int, wrap func(*vfs.Mem, transport.Conn) transport.Conn) *walCluster {
	c := &walCluster{
		t: t, net: netsim.NewNetwork(1), wrap: wrap,
		addrs: map[uint64]string{}, disks: map[uint64]*vfs.Mem{}, wals: map[uint64]*wal.Storage{},
		nodes: map[uint64]*raft.Node{}, readers: map[uint64]*sync.WaitGroup{}, applied: map[uint64][]string{},
	}
	c.net.LogSeedOnFailure(t)
	t.Cleanup(func() {
		for id := range c.nodes {
			_ = c.stop(id)
		}
		c.net.Close()
	})
	for id := uint64(1); id <= uint64(n); id++ {
		c.addrs[id] = fmt.Sprintf("n%d", id)
		c.disks[id] = vfs.NewMem()
	}
	for id := range c.addrs {
		c.start(id)
	}
	return c
}

// start opens node id's WAL and starts the node on it: new, or after a
// crash, recovering.
func (c *walCluster) start(id uint64) {
	c.t.Helper()
	s, err := wal.Open("/raft", wal.WithFS(c.disks[id]))
	require.NoError(c.t, err)
	l, err := c.net.Listen(c.addrs[id])
	require.NoError(c.t, err)
	dialer := c.net.Dialer(c.addrs[id])
	n, err := raft.NewNode(raft.NodeConfig{
		Config:   raft.Config{ID: id, Storage: slowDisk{s}, Seed: 1},
		Addrs:    c.addrs,
		Listener: l,
		Dialer: transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
			conn, err := dialer.Dial(ctx, addr)
			if err != nil || c.wrap == nil {
				return conn, err
			}
			return c.wrap(c.disks[id], conn), nil
		}),
		TickInterval: tick,
	})
	require.NoError(c.t, err)
	c.wals[id], c.nodes[id] = s, n
	c.mu.Lock()
	c.applied[id] = nil // a new state machine, replaying the log
	c.mu.Unlock()
	c.readers[id] = &sync.WaitGroup{}
	c.readers[id].Go(func() { // exits when Close closes Apply
		for m := range n.Apply() {
			c.mu.Lock()
			c.applied[id] = append(c.applied[id], string(m.Command))
			c.mu.Unlock()
		}
	})
}

// slowDisk is a WAL whose writes take a millisecond of virtual time
// before they start: a node that sent what it had not saved would have
// a millisecond for its messages to leave before the fsync.
type slowDisk struct{ *wal.Storage }

func (s slowDisk) Save(hs raft.HardState, ents []raft.Entry) error {
	time.Sleep(time.Millisecond)
	return s.Storage.Save(hs, ents)
}

func (s slowDisk) SaveSnapshot(snap raft.Snapshot) error {
	time.Sleep(time.Millisecond)
	return s.Storage.SaveSnapshot(snap)
}

// stop closes node id and its WAL, and returns the node's error.
func (c *walCluster) stop(id uint64) error {
	err := c.nodes[id].Close()
	c.readers[id].Wait()
	_ = c.wals[id].Close() // after a crash, the file handles fail: nothing to report
	delete(c.nodes, id)
	return err
}

// leader waits (in virtual time) for a leader that every running node
// follows.
func (c *walCluster) leader() uint64 {
	c.t.Helper()
	for range 1000 {
		time.Sleep(tick)
		var l uint64
		for _, n := range c.nodes {
			s := n.Status()
			if s.Leader == raft.None || (l != raft.None && s.Leader != l) {
				l = raft.None
				break
			}
			l = s.Leader
		}
		if l != raft.None && c.nodes[l] != nil {
			return l
		}
	}
	c.t.Fatal("no leader")
	return raft.None
}

// commit commits cmd and waits until every running node has applied it.
func (c *walCluster) commit(cmd string) {
	c.t.Helper()
	for range 20 {
		if _, _, err := c.nodes[c.leader()].Propose(context.Background(), []byte(cmd)); err != nil {
			continue
		}
		for range 500 {
			time.Sleep(tick)
			if c.allApplied(cmd) {
				return
			}
		}
	}
	c.t.Fatalf("%q never committed", cmd)
}

func (c *walCluster) allApplied(cmd string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.nodes {
		if !strings.Contains(strings.Join(c.applied[id], ","), cmd) {
			return false
		}
	}
	return true
}

// A leader whose power is cut in the middle of a Save loses the write
// that was not yet synced, restarts from its WAL, and catches up: the
// cluster goes on committing, and the restarted server applies the same
// commands in the same order as the others.
func TestNodeRestartsFromItsWALAfterACrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newWALCluster(t, 3, nil)
		c.commit("a")
		c.commit("b")
		l := c.leader()

		// The next fsync of the leader's log does not happen: the power
		// goes first. Its Save fails, which stops the node.
		errPower := errors.New("power cut")
		disk := c.disks[l]
		disk.SetFault(func(op vfs.Op) error {
			if op.Kind == vfs.OpSync {
				return errPower
			}
			return nil
		})
		_, _, err := c.nodes[l].Propose(context.Background(), []byte("lost?"))
		require.NoError(t, err)
		time.Sleep(tick)
		c.net.Crash(c.addrs[l])
		require.ErrorIs(t, c.stop(l), errPower, "the node stopped on its storage's error")
		disk.Crash() // the unsynced record is lost
		disk.SetFault(nil)
		last := disk.Ops()[len(disk.Ops())-1]
		require.Equal(t, vfs.OpSync, last.Kind, "the crash hit between a write and its fsync")
		require.ErrorIs(t, last.Err, errPower)

		c.commit("c") // the two others elect a leader and go on
		c.net.Restart(c.addrs[l])
		c.start(l)
		c.commit("d")

		c.mu.Lock()
		defer c.mu.Unlock()
		// "lost?" left the leader before its fsync (a leader sends while
		// it saves), so the followers may hold it and the next leader
		// commit it: its client never had an answer, so either outcome
		// is right, as long as every server applies the same history.
		want := c.applied[l%3+1]
		assert.Equal(t, []string{"a", "b", "c", "d"}, slices.DeleteFunc(slices.Clone(want), func(s string) bool { return s == "lost?" }))
		assert.LessOrEqual(t, slices.Index(want, "lost?"), slices.Index(want, "c"), "lost? applied after c")
		for id := range c.nodes {
			assert.Equal(t, want, c.applied[id], "server %d applied another history", id)
		}
	})
}
