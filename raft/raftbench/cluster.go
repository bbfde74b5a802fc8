package raftbench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

// TCPCluster is a System: Nodes on loopback TCP, in this process, each on
// a Storage of its own. Commit proposes at the leader and waits until a
// node (the leader, as a rule: it learns of the commit first) applies the
// command.
type TCPCluster struct {
	nodes    []*raft.Node
	storages []raft.Storage // closed by Close if they are io.Closers

	mu      sync.Mutex               // protects waiters and leader
	waiters map[uint64]chan struct{} // by command number: closed when applied
	leader  int                      // index in nodes of the last known leader

	readers sync.WaitGroup // one goroutine per node, reading Apply
	epochs  *epochs        // when a Commit checks that its proposal is not lost
}

// checkEvery is how often a Commit waiting for its command checks that
// the leader it proposed to still leads in the same term: if not, the
// command may have been replaced in the log, and is proposed again.
const checkEvery = 100 * time.Millisecond

var _ System = (*TCPCluster)(nil)

// StartTCPCluster starts n nodes on 127.0.0.1, node id on the Storage
// newStorage(id) returns (a MemoryStorage each if newStorage is nil).
// Close stops them, and closes each Storage that is an io.Closer.
func StartTCPCluster(n int, newStorage func(id uint64) (raft.Storage, error)) (*TCPCluster, error) {
	if newStorage == nil {
		newStorage = func(uint64) (raft.Storage, error) { return raft.NewMemoryStorage(), nil }
	}
	c := &TCPCluster{waiters: make(map[uint64]chan struct{}), epochs: startEpochs(checkEvery)}
	addrs := map[uint64]string{}
	listeners := map[uint64]transport.Listener{}
	for id := uint64(1); id <= uint64(n); id++ {
		l, err := transport.ListenTCP("127.0.0.1:0")
		if err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return nil, errors.Join(err, c.Close())
		}
		listeners[id], addrs[id] = l, l.Addr().String()
	}
	for id := uint64(1); id <= uint64(n); id++ {
		l := listeners[id]
		delete(listeners, id) // start owns it now
		if err := c.start(id, addrs, l, newStorage); err != nil {
			for _, l := range listeners {
				_ = l.Close()
			}
			return nil, errors.Join(err, c.Close())
		}
	}
	return c, nil
}

// start starts node id, listening on l, which it closes on failure.
func (c *TCPCluster) start(id uint64, addrs map[uint64]string, l transport.Listener,
	newStorage func(id uint64) (raft.Storage, error)) error {
	s, err := newStorage(id)
	if err != nil {
		_ = l.Close()
		return err
	}
	c.storages = append(c.storages, s)
	node, err := raft.NewNode(raft.NodeConfig{
		Config:   raft.Config{ID: id, Storage: s, Seed: int64(id)},
		Addrs:    addrs,
		Listener: l,
		Dialer:   transport.NewTCPDialer(),
	})
	if err != nil {
		return err // NewNode closed l
	}
	c.nodes = append(c.nodes, node)
	c.readers.Go(func() { c.read(node) }) // exits when the node closes Apply
	return nil
}

// read wakes the Commit waiting for each command the node applies. The
// first node to apply a command is as good as any: it is committed.
func (c *TCPCluster) read(n *raft.Node) {
	for m := range n.Apply() {
		if len(m.Command) < 8 {
			continue
		}
		id := binary.BigEndian.Uint64(m.Command)
		c.mu.Lock()
		if ch, ok := c.waiters[id]; ok {
			close(ch)
			delete(c.waiters, id)
		}
		c.mu.Unlock()
	}
}

// Commit proposes cmd at the leader, following leader hints and retrying
// when leadership changes, and waits until a node applies it. A command
// proposed to a leader that lost its leadership before committing it
// may never commit; Commit proposes it again then, so it may be applied
// twice (the first application wakes Commit).
func (c *TCPCluster) Commit(ctx context.Context, cmd []byte) error {
	id := binary.BigEndian.Uint64(cmd)
	applied := make(chan struct{})
	c.mu.Lock()
	c.waiters[id] = applied
	k := c.leader
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.waiters, id)
		c.mu.Unlock()
	}()
	for {
		_, term, err := c.nodes[k].Propose(ctx, cmd)
		var nle *raft.NotLeaderError
		switch {
		case err == nil:
			c.mu.Lock()
			c.leader = k
			c.mu.Unlock()
			err := c.wait(ctx, applied, k, term)
			if !errors.Is(err, errLost) {
				return err
			}
		case errors.As(err, &nle) && nle.Leader != raft.None:
			k = int(nle.Leader) - 1
		case errors.As(err, &nle) || errors.Is(err, raft.ErrProposalDropped):
			// No leader yet, or one handing over: wait a moment.
			k = (k + 1) % len(c.nodes)
			select {
			case <-time.After(raft.DefaultTickInterval):
			case <-ctx.Done():
				return ctx.Err()
			}
		default:
			return err
		}
	}
}

// errLost says that a proposal may have been lost.
var errLost = errors.New("raftbench: the leader changed before the command was applied")

// wait waits until applied is closed, or ctx ends, or node k no longer
// leads in term (errLost).
func (c *TCPCluster) wait(ctx context.Context, applied <-chan struct{}, k int, term uint64) error {
	for {
		select {
		case <-applied:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("command proposed at node %d, never applied: %w", k+1, ctx.Err())
		case <-c.epochs.next():
			if s := c.nodes[k].Status(); s.Term != term || s.State != raft.Leader {
				return errLost
			}
		}
	}
}

// Close stops every node, then closes the storages.
func (c *TCPCluster) Close() error {
	c.epochs.close()
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Close())
	}
	c.readers.Wait()
	for _, s := range c.storages {
		if cl, ok := s.(io.Closer); ok {
			errs = append(errs, cl.Close())
		}
	}
	return errors.Join(errs...)
}
