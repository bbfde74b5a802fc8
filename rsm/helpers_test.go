package rsm_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rsm"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// journal is the test's state machine: the list of commands applied, in
// order. Apply returns the list's new length; Query returns the list.
type journal struct {
	mu      sync.Mutex // protects lines; the RSM does not need it, the test does
	lines   []string
	applies int
}

func (j *journal) Apply(cmd []byte) []byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, string(cmd))
	j.applies++
	return []byte(strconv.Itoa(len(j.lines)))
}

func (j *journal) Query([]byte) []byte {
	j.mu.Lock()
	defer j.mu.Unlock()
	return []byte(strings.Join(j.lines, ","))
}

func (j *journal) Snapshot() []byte { return j.Query(nil) }

func (j *journal) Restore(data []byte) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = nil
	if len(data) > 0 {
		j.lines = strings.Split(string(data), ",")
	}
	return nil
}

func (j *journal) count() (lines, applies int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.lines), j.applies
}

// cluster is n replicas of a journal on a simulated network. Make it
// inside a synctest bubble.
type cluster struct {
	t        *testing.T
	net      *netsim.Network
	addrs    map[uint64]string
	storage  map[uint64]*raft.MemoryStorage
	replicas map[uint64]*rsm.RSM
	journals map[uint64]*journal
	opts     []rsm.Option
}

func newCluster(t *testing.T, n int, opts ...rsm.Option) *cluster {
	t.Helper()
	c := &cluster{
		t: t, net: netsim.NewNetwork(1), addrs: map[uint64]string{},
		storage: map[uint64]*raft.MemoryStorage{}, replicas: map[uint64]*rsm.RSM{},
		journals: map[uint64]*journal{}, opts: opts,
	}
	c.net.LogSeedOnFailure(t)
	t.Cleanup(func() {
		for id := range c.replicas {
			c.stop(id)
		}
		c.net.Close()
	})
	for id := uint64(1); id <= uint64(n); id++ {
		c.addrs[id] = fmt.Sprintf("n%d", id)
		c.storage[id] = raft.NewMemoryStorage()
	}
	for id := range c.addrs {
		c.start(id)
	}
	return c
}

// start starts replica id on its storage, with a new, empty journal.
func (c *cluster) start(id uint64) {
	c.t.Helper()
	l, err := c.net.Listen(c.addrs[id])
	require.NoError(c.t, err)
	j := &journal{}
	r, err := rsm.New(raft.NodeConfig{
		Config:   raft.Config{ID: id, Storage: c.storage[id], Seed: 1, PreVote: true, CheckQuorum: true},
		Addrs:    c.addrs,
		Listener: l,
		Dialer:   c.net.Dialer(c.addrs[id]),
	}, j, c.opts...)
	require.NoError(c.t, err)
	c.replicas[id], c.journals[id] = r, j
}

// stop closes replica id, keeping its storage.
func (c *cluster) stop(id uint64) {
	if r := c.replicas[id]; r != nil {
		require.NoError(c.t, r.Close())
		delete(c.replicas, id)
	}
}

// leader waits for a replica to lead and returns its ID.
func (c *cluster) leader() uint64 {
	c.t.Helper()
	for range 100 {
		for id, r := range c.replicas {
			if r.Node().Status().State == raft.Leader {
				return id
			}
		}
		time.Sleep(50 * time.Millisecond) // virtual time: an election takes a few hundred ms
	}
	c.t.Fatal("no leader after 5s")
	return 0
}

// submit submits req to the leader, retrying through elections.
func (c *cluster) submit(req rsm.Request) string {
	c.t.Helper()
	for range 50 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		res, err := c.replicas[c.leader()].Submit(ctx, req)
		cancel()
		if err == nil {
			return string(res)
		}
		if !errors.Is(err, raft.ErrNotLeader) && !errors.Is(err, rsm.ErrMaybeApplied) && !errors.Is(err, rsm.ErrNotApplied) {
			c.t.Fatalf("submit %v: %v", req, err)
		}
	}
	c.t.Fatalf("submit %v: no success in 50 tries", req)
	return ""
}

// read reads replica id's journal through Read, asking again while
// leadership is changing (a follower that asked an old leader, or one that
// has not yet heard of the new one, gets a *raft.NotLeaderError).
func (c *cluster) read(id uint64) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		res, err := c.replicas[id].Read(ctx, nil)
		if errors.Is(err, raft.ErrNotLeader) && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond) // virtual time: an election takes a few hundred ms
			continue
		}
		require.NoError(c.t, err)
		return string(res)
	}
}

// logBytes is the size of replica id's log: the data of its entries.
func (c *cluster) logBytes(id uint64) int {
	s := c.storage[id]
	first, _ := s.FirstIndex()
	last, _ := s.LastIndex()
	if last < first {
		return 0
	}
	ents, err := s.Entries(first, last+1, 1<<62)
	require.NoError(c.t, err)
	n := 0
	for _, e := range ents {
		n += len(e.Data)
	}
	return n
}
