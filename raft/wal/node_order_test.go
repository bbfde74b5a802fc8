package wal_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
	"github.com/distsys-kit/distsys/transport"
)

// durable returns what a crash of disk now would leave of the WAL in
// /raft: it replays disk's recorded operations on a new vfs.Mem, cuts
// that one's power, and opens the WAL on it.
func durable(disk *vfs.Mem) (raft.HardState, uint64, error) {
	img := vfs.NewMem()
	files := map[string]vfs.File{}
	file := func(path string) (vfs.File, error) {
		if f, ok := files[path]; ok {
			return f, nil
		}
		f, err := img.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
		files[path] = f
		return f, err
	}
	for _, op := range disk.Ops() {
		if op.Err != nil {
			continue // it did not happen
		}
		var err error
		switch op.Kind {
		case vfs.OpMkdir:
			err = img.MkdirAll(op.Path, 0o755)
		case vfs.OpCreate:
			_, err = file(op.Path)
		case vfs.OpWrite:
			var f vfs.File
			if f, err = file(op.Path); err == nil {
				if _, err = f.Seek(op.Off, io.SeekStart); err == nil {
					_, err = f.Write(op.Data)
				}
			}
		case vfs.OpTruncate:
			var f vfs.File
			if f, err = file(op.Path); err == nil {
				err = f.Truncate(op.Off)
			}
		case vfs.OpSync:
			var f vfs.File
			if f, err = file(op.Path); err == nil {
				err = f.Sync()
			}
		case vfs.OpRename:
			err = img.Rename(op.Path, op.To)
			files[op.To] = files[op.Path]
			delete(files, op.Path)
		case vfs.OpRemove:
			err = img.Remove(op.Path)
			delete(files, op.Path)
		case vfs.OpSyncDir:
			err = img.SyncDir(op.Path)
		}
		if err != nil {
			return raft.HardState{}, 0, fmt.Errorf("replaying %v: %w", op, err)
		}
	}
	img.Crash()
	s, err := wal.Open("/raft", wal.WithFS(img))
	if err != nil {
		return raft.HardState{}, 0, err
	}
	defer s.Close()
	hs, _ := s.InitialState()
	last, _ := s.LastIndex()
	return hs, last, nil
}

// promiseKept returns an error if m promises what the durable state
// hs, last does not hold: a term, a vote, entries acknowledged, or
// entries announced as committed. (A leader may send entries it has not
// synced yet: its own copy counts toward a commit only once synced.)
func promiseKept(m raft.Message, hs raft.HardState, last uint64) error {
	switch {
	case m.Type != raft.PreVote && m.Type != raft.PreVoteReply && m.Term > hs.Term:
		return fmt.Errorf("term %d not synced (synced: %d)", m.Term, hs.Term)
	case m.Type == raft.RequestVote && m.Term == hs.Term && hs.VotedFor != m.From:
		return fmt.Errorf("its own vote not synced (synced: %+v)", hs)
	case m.Type == raft.RequestVoteReply && m.VoteGranted && m.Term == hs.Term && hs.VotedFor != m.To:
		return fmt.Errorf("the vote it grants not synced (synced: %+v)", hs)
	case m.Type == raft.AppendEntriesReply && m.Success && m.MatchIndex > last:
		return fmt.Errorf("acknowledges entries up to %d, synced up to %d", m.MatchIndex, last)
	case m.Type == raft.AppendEntries && m.LeaderCommit > last:
		return fmt.Errorf("announces commit index %d, synced only up to %d", m.LeaderCommit, last)
	}
	return nil
}

// syncCheckingConn checks, as each message leaves, that what it promises
// would survive its sender's crash at that moment.
type syncCheckingConn struct {
	transport.Conn
	disk    *vfs.Mem
	mu      *sync.Mutex // protects checked
	checked *int
	errorf  func(format string, args ...any)
}

func (c *syncCheckingConn) Send(ctx context.Context, b []byte) error {
	m, err := raft.DecodeMessage(b)
	if err != nil {
		c.errorf("undecodable message: %v", err)
		return c.Conn.Send(ctx, b)
	}
	hs, last, err := durable(c.disk)
	if err != nil {
		c.errorf("server %d's disk: %v", m.From, err)
	} else if err := promiseKept(m, hs, last); err != nil {
		c.errorf("%v sent before it was synced: %v", m, err)
	}
	c.mu.Lock()
	*c.checked++
	c.mu.Unlock()
	return c.Conn.Send(ctx, b)
}

// Figure 2, "updated on stable storage before responding to RPCs", seen
// from the disk: every message a Node sends is checked, at the moment it
// leaves, against what a power cut at that moment would leave in the
// sender's WAL (replayed from the file operations vfs.Mem recorded). A
// node that sent a vote, an acknowledgement or a commit index before its
// fsync returned would be caught.
func TestNodeSendsOnlyWhatItsWALHasSynced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		checked := 0
		c := newWALCluster(t, 3, func(disk *vfs.Mem, conn transport.Conn) transport.Conn {
			return &syncCheckingConn{Conn: conn, disk: disk, mu: &mu, checked: &checked, errorf: t.Errorf}
		})
		c.commit("a")
		c.commit("b")
		l := c.leader()
		require.NoError(t, c.nodes[l].TransferLeadership(context.Background(), l%3+1))
		c.commit("c")
		c.net.Crash(c.addrs[l])
		require.NoError(t, c.stop(l))
		c.commit("d")
		c.net.Restart(c.addrs[l])
		c.start(l)
		c.commit("e")
		mu.Lock()
		defer mu.Unlock()
		assert.Greater(t, checked, 50, "messages checked")
	})
}
