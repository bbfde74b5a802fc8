package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	etcd "go.etcd.io/raft/v3"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"

	"github.com/distsys-kit/distsys/raft/raftbench"
	"github.com/distsys-kit/distsys/transport"
)

// etcdCluster is etcd raft's RawNode driven by the smallest loop that does
// the job, per node: tick, step, propose, then for each Ready save
// (MemoryStorage, and the fsync'd etcdLog when durable), send, apply,
// advance, with the two shortcuts of raft.Node's loop (see handleReady). Batching is on: the loop takes every proposal and message
// already waiting before it asks for a Ready, so they share one fsync and
// one MsgApp per follower. Messages travel over this library's TCP
// transport, one connection and one sending goroutine per peer, as our
// raft.Node does, so the two differ only in the protocol and the loop.
type etcdCluster struct {
	nodes   []*etcdNode
	leader  atomic.Uint64 // the ID of the last node that said it leads
	waiters waiters
	// changed is closed, and replaced, when a node's role or leader
	// changes: a proposal made before then may have been lost.
	changed atomic.Pointer[chan struct{}]
}

var _ raftbench.System = (*etcdCluster)(nil)

type etcdNode struct {
	id      uint64
	rn      *etcd.RawNode // owned by run
	storage *etcd.MemoryStorage
	log     *etcdLog // nil: in memory only
	c       *etcdCluster
	term    uint64 // owned by run: the term and vote written last
	vote    uint64

	propc chan etcdProposal
	recvc chan *pb.Message // buffered: readers decode ahead while the loop saves
	peers map[uint64]chan *pb.Message

	listener transport.Listener
	cancel   context.CancelFunc
	wg       sync.WaitGroup
}

type etcdProposal struct {
	data []byte
	errc chan error // size 1
}

// startEtcdCluster starts n nodes on 127.0.0.1, each keeping an fsync'd
// log in dir/<id> unless dir is "".
func startEtcdCluster(n int, dir string) (*etcdCluster, error) {
	c := &etcdCluster{waiters: newWaiters()}
	ch := make(chan struct{})
	c.changed.Store(&ch)
	listeners := map[uint64]transport.Listener{}
	addrs := map[uint64]string{}
	closeAll := func() {
		for _, l := range listeners {
			_ = l.Close()
		}
	}
	var voters []uint64
	for id := uint64(1); id <= uint64(n); id++ {
		l, err := transport.ListenTCP("127.0.0.1:0")
		if err != nil {
			closeAll()
			return nil, err
		}
		listeners[id], addrs[id] = l, l.Addr().String()
		voters = append(voters, id)
	}
	for id := uint64(1); id <= uint64(n); id++ {
		node, err := c.newNode(id, voters, dir)
		if err != nil {
			closeAll()
			return nil, errors.Join(err, c.Close())
		}
		node.listener = listeners[id]
		delete(listeners, id)
		node.start(addrs)
		c.nodes = append(c.nodes, node)
	}
	return c, nil
}

// newNode makes node id, its storage holding the membership as a
// snapshot at index 1 (etcd raft's recommended bootstrap).
func (c *etcdCluster) newNode(id uint64, voters []uint64, dir string) (*etcdNode, error) {
	s := etcd.NewMemoryStorage()
	err := s.ApplySnapshot(&pb.Snapshot{Metadata: &pb.SnapshotMetadata{
		ConfState: &pb.ConfState{Voters: voters}, Index: proto.Uint64(1), Term: proto.Uint64(1),
	}})
	if err != nil {
		return nil, err
	}
	rn, err := etcd.NewRawNode(&etcd.Config{
		ID:              id,
		ElectionTick:    10,
		HeartbeatTick:   1,
		Storage:         s,
		MaxSizePerMsg:   1 << 20,
		MaxInflightMsgs: 256,
		Logger:          &etcd.DefaultLogger{Logger: log.New(io.Discard, "", 0)},
	})
	if err != nil {
		return nil, err
	}
	n := &etcdNode{id: id, rn: rn, storage: s, c: c,
		propc: make(chan etcdProposal), recvc: make(chan *pb.Message, 256), peers: map[uint64]chan *pb.Message{}}
	if dir != "" {
		if n.log, err = openEtcdLog(filepath.Join(dir, fmt.Sprint(id))); err != nil {
			return nil, err
		}
	}
	return n, nil
}

func (n *etcdNode) start(addrs map[uint64]string) {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	for id, addr := range addrs {
		if id == n.id {
			continue
		}
		out := make(chan *pb.Message, 1024) // as raft.DefaultOutboxSize
		n.peers[id] = out
		n.wg.Go(func() { etcdSend(ctx, addr, out) }) // exits when ctx is cancelled
	}
	n.wg.Go(func() { n.accept(ctx) }) // exits when the listener is closed
	n.wg.Go(func() { n.run(ctx) })    // exits when ctx is cancelled
}

// run is the Ready loop.
func (n *etcdNode) run(ctx context.Context) {
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			n.rn.Tick()
		case p := <-n.propc:
			n.propose(p)
			n.drain()
		case m := <-n.recvc:
			_ = n.rn.Step(m)
			n.drain()
		case <-ctx.Done():
			return
		}
		for n.rn.HasReady() {
			if err := n.handleReady(n.rn.Ready()); err != nil {
				panic(err) // a benchmark's disk failed: nothing sensible to go on with
			}
		}
	}
}

func (n *etcdNode) propose(p etcdProposal) { p.errc <- n.rn.Propose(p.data) }

// drain takes what is already waiting, up to 256, into the next Ready.
func (n *etcdNode) drain() {
	for range 256 {
		select {
		case p := <-n.propc:
			n.propose(p)
		case m := <-n.recvc:
			_ = n.rn.Step(m)
		default:
			return
		}
	}
}

func (n *etcdNode) handleReady(rd etcd.Ready) error {
	if rd.SoftState != nil {
		if rd.SoftState.RaftState == etcd.StateLeader {
			n.c.leader.Store(n.id)
		}
		next := make(chan struct{})
		close(*n.c.changed.Swap(&next))
	}
	// The two things raft.Node does to keep one fsync on a commit's path,
	// both allowed by etcd raft: a leader's appends and heartbeats go out
	// before its own write (etcd raft's doc.go, step 2; the thesis,
	// §10.2.1), unless this Ready changes the term or vote; and a Ready
	// that changes only the commit index is written without an fsync
	// (rd.MustSync is false), as etcd's own WAL does.
	hs := rd.HardState
	early := etcd.IsEmptyHardState(hs) || hs.GetTerm() == n.term && hs.GetVote() == n.vote
	isEarly := func(m *pb.Message) bool {
		return early && (m.GetType() == pb.MsgApp || m.GetType() == pb.MsgHeartbeat)
	}
	for _, m := range rd.Messages {
		if isEarly(m) {
			n.send(m)
		}
	}
	if n.log != nil && (!etcd.IsEmptyHardState(hs) || len(rd.Entries) > 0) {
		if err := n.log.save(hs, rd.Entries, rd.MustSync); err != nil {
			return err
		}
	}
	if !etcd.IsEmptyHardState(hs) {
		if err := n.storage.SetHardState(hs); err != nil {
			return err
		}
		n.term, n.vote = hs.GetTerm(), hs.GetVote()
	}
	if err := n.storage.Append(rd.Entries); err != nil {
		return err
	}
	for _, m := range rd.Messages {
		if !isEarly(m) {
			n.send(m)
		}
	}
	for _, e := range rd.CommittedEntries {
		if e.GetType() == pb.EntryNormal && len(e.GetData()) >= 8 {
			n.c.waiters.done(e.GetData())
		}
	}
	n.rn.Advance(rd)
	return nil
}

// send queues m for its peer's sending goroutine.
func (n *etcdNode) send(m *pb.Message) {
	select {
	case n.peers[m.GetTo()] <- m:
	default: // a full outbox: dropped, as raft.Node does
	}
}

// accept reads its peers' messages into recvc.
func (n *etcdNode) accept(ctx context.Context) {
	for {
		conn, err := n.listener.Accept(ctx)
		if err != nil {
			return
		}
		n.wg.Go(func() { // exits when ctx is cancelled or the peer closes conn
			defer conn.Close()
			stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
			defer stop()
			for {
				b, err := conn.Recv(ctx)
				if err != nil {
					return
				}
				m := new(pb.Message)
				if proto.Unmarshal(b, m) != nil {
					continue
				}
				select {
				case n.recvc <- m:
				case <-ctx.Done():
					return
				}
			}
		})
	}
}

// etcdSend sends out's messages to addr, dialing again after a failure.
func etcdSend(ctx context.Context, addr string, out <-chan *pb.Message) {
	var conn transport.Conn
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	d := transport.NewTCPDialer()
	for {
		var m *pb.Message
		select {
		case m = <-out:
		case <-ctx.Done():
			return
		}
		if conn == nil {
			c, err := d.Dial(ctx, addr)
			if err != nil {
				continue // dropped: raft sends again what matters
			}
			conn = c
		}
		b, err := proto.Marshal(m)
		if err == nil {
			err = conn.Send(ctx, b)
		}
		if err != nil {
			_ = conn.Close()
			conn = nil
		}
	}
}

// Commit proposes cmd at the node that last said it leads, and waits
// until a node applies it; if a node's role or leader changes meanwhile,
// the proposal may be lost, and it proposes again (a command may then be
// applied twice: the first wakes Commit).
func (c *etcdCluster) Commit(ctx context.Context, cmd []byte) error {
	applied := c.waiters.add(cmd)
	defer c.waiters.forget(cmd)
	data := append([]byte(nil), cmd...)
	for {
		changed := *c.changed.Load()
		if err := c.propose(ctx, data); err != nil {
			return err
		}
		select {
		case <-applied:
			return nil
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// propose hands data to the node that last said it leads, trying again
// while there is no leader.
func (c *etcdCluster) propose(ctx context.Context, data []byte) error {
	for {
		k := max(c.leader.Load(), 1) - 1
		p := etcdProposal{data: data, errc: make(chan error, 1)}
		select {
		case c.nodes[k].propc <- p:
		case <-ctx.Done():
			return ctx.Err()
		}
		if err := <-p.errc; !errors.Is(err, etcd.ErrProposalDropped) {
			return err
		}
		select { // no leader yet: wait a tick
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Close stops the nodes and closes their logs.
func (c *etcdCluster) Close() error {
	var errs []error
	for _, n := range c.nodes {
		n.cancel()
		errs = append(errs, n.listener.Close())
		n.wg.Wait()
		if n.log != nil {
			errs = append(errs, n.log.Close())
		}
	}
	return errors.Join(errs...)
}
