package raft_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

// recordingStorage is a MemoryStorage with a slow disk (each write takes
// a millisecond of virtual time) that records what it has made durable.
type recordingStorage struct {
	*raft.MemoryStorage

	mu    sync.Mutex         // protects the fields below
	votes map[[2]uint64]bool // (term, votedFor) pairs saved
	term  uint64             // the highest term saved
	last  uint64             // the highest last index saved
}

func (s *recordingStorage) Save(hs raft.HardState, ents []raft.Entry) error {
	time.Sleep(time.Millisecond) // the fsync: anything sent meanwhile did not wait for it
	if err := s.MemoryStorage.Save(hs, ents); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !hs.IsEmpty() {
		s.votes[[2]uint64{hs.Term, hs.VotedFor}] = true
		s.term = max(s.term, hs.Term)
	}
	if n := len(ents); n > 0 {
		s.last = max(s.last, ents[n-1].Index)
	}
	return nil
}

func (s *recordingStorage) SaveSnapshot(snap raft.Snapshot) error {
	time.Sleep(time.Millisecond)
	if err := s.MemoryStorage.SaveSnapshot(snap); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.last = max(s.last, snap.Index)
	return nil
}

// check reports whether what m promises was durable when it was sent:
// its term, the vote it asks for or grants, the entries it acknowledges,
// the entries a leader announces as committed. (The entries a leader
// sends need not be: see TestLeaderSendsWhileItSaves.)
func (s *recordingStorage) check(m raft.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case m.Type != raft.PreVote && m.Type != raft.PreVoteReply && m.Term > s.term:
		return fmt.Errorf("%v: term %d not saved (saved: %d)", m, m.Term, s.term)
	case m.Type == raft.RequestVote && !s.votes[[2]uint64{m.Term, m.From}]:
		return fmt.Errorf("%v: its own vote not saved", m)
	case m.Type == raft.RequestVoteReply && m.VoteGranted && !s.votes[[2]uint64{m.Term, m.To}]:
		return fmt.Errorf("%v: the vote granted not saved", m)
	case (m.Type == raft.AppendEntriesReply && m.Success || m.Type == raft.InstallSnapshotReply) && m.MatchIndex > s.last:
		return fmt.Errorf("%v: acknowledges entries up to %d, saved up to %d", m, m.MatchIndex, s.last)
	case m.Type == raft.AppendEntries && m.LeaderCommit > s.last:
		return fmt.Errorf("%v: announces commit index %d, saved up to %d", m, m.LeaderCommit, s.last)
	}
	return nil
}

// checkingConn checks every message it sends against its sender's
// storage, at the moment it is sent.
type checkingConn struct {
	transport.Conn
	storage map[uint64]*recordingStorage
	checked *int
	mu      *sync.Mutex
	bad     func(format string, a ...any)
}

func (c *checkingConn) Send(ctx context.Context, b []byte) error {
	m, err := raft.DecodeMessage(b)
	if err != nil {
		c.bad("undecodable message: %v", err)
	} else if err := c.storage[m.From].check(m); err != nil {
		c.bad("sent before it was saved: %v", err)
	}
	c.mu.Lock()
	*c.checked++
	c.mu.Unlock()
	return c.Conn.Send(ctx, b)
}

// Figure 2's rule, "persistent state ... updated on stable storage before
// responding to RPCs": every message a node sends is checked, as it goes
// out, against what its storage has made durable. Storage writes take
// time, so a node that sent before saving would be caught.
func TestNodeSavesBeforeItSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		storages := map[uint64]*recordingStorage{}
		var mu sync.Mutex
		checked := 0
		c := newCluster(t, 3, func(cfg *raft.NodeConfig) {
			s := storages[cfg.ID]
			if s == nil {
				s = &recordingStorage{MemoryStorage: raft.NewMemoryStorage(), votes: map[[2]uint64]bool{}}
				storages[cfg.ID] = s
			}
			cfg.Storage = s
			inner := cfg.Dialer
			cfg.Dialer = transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
				conn, err := inner.Dial(ctx, addr)
				if err != nil {
					return nil, err
				}
				return &checkingConn{Conn: conn, storage: storages, checked: &checked, mu: &mu, bad: t.Errorf}, nil
			})
		})
		for _, cmd := range []string{"a", "b", "c"} {
			c.commit(cmd)
		}
		l := c.waitLeader()
		require.NoError(t, c.nodes[l].TransferLeadership(context.Background(), l%3+1))
		c.crash(l)
		c.commit("d")
		c.restart(l)
		c.commit("e")
		mu.Lock()
		defer mu.Unlock()
		assert.Greater(t, checked, 50, "messages checked")
	})
}

// A leader sends AppendEntries while it saves the same entries, so a
// commit waits for one disk write, not for the leader's and then a
// follower's one after the other; and a commit that changes nothing but
// the commit index costs no disk write before the leader applies it. With
// every Save taking a millisecond of virtual time and a network without
// delay, a command proposed to an idle cluster is applied by its leader
// one millisecond later; saving before sending made it two, and saving
// the new commit index a third.
func TestLeaderSendsWhileItSaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newCluster(t, 3, func(cfg *raft.NodeConfig) {
			cfg.Storage = &recordingStorage{MemoryStorage: raft.NewMemoryStorage(), votes: map[[2]uint64]bool{}}
		})
		c.commit("warm-up")
		for _, cmd := range []string{"a", "b", "c"} {
			l := c.waitLeader()
			synctest.Wait() // idle: nothing in flight
			start := time.Now()
			i, _, err := c.nodes[l].Propose(context.Background(), []byte(cmd))
			require.NoError(t, err)
			for {
				if got, ok := c.appliedAt(l, i); ok {
					require.Equal(t, cmd, got)
					break
				}
				time.Sleep(100 * time.Microsecond)
			}
			assert.Less(t, time.Since(start), 2*time.Millisecond, "%q: proposed to applied on the leader", cmd)
		}
	})
}
