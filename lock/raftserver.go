package lock

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/rsm"
	"github.com/distsys-kit/distsys/transport"
)

// officeCheck is how often a RaftServer asks its raft node whether it
// leads: a new leader takes office (and expiries are proposed) within it.
const officeCheck = 20 * time.Millisecond

// RaftConfig configures one replica of the replicated lock service.
// Every replica of a cluster must be given the same TTL and LockDelay.
type RaftConfig struct {
	// Raft configures the replica's raft node: its ID, Storage (a
	// raft/wal to survive crashes), the peers' raft addresses, its raft
	// Listener and Dialer. Required.
	Raft raft.NodeConfig
	// Listener is where lock clients connect. The server owns it and
	// closes it on Close. Required.
	Listener transport.Listener
	// ClientAddrs maps each replica's raft ID to the address of its
	// client Listener, so that a follower can tell a client where the
	// leader is. Optional: without it, clients search.
	ClientAddrs map[uint64]string
	// TTL is the session lease; zero means DefaultTTL.
	TTL time.Duration
	// LockDelay is how long a lock stays ungranted after its holder's
	// session expired; zero means DefaultLockDelay, negative means none.
	LockDelay time.Duration
	// MaxRaftState makes the replica snapshot its lock table once its log
	// grows by this many bytes (see rsm.WithMaxRaftState); 0 never does.
	MaxRaftState int
	// RPCOptions are passed to the rpc server that clients call.
	RPCOptions []rpc.ServerOption
	// Clock is the replica's clock, which stamps the commands it proposes
	// while it leads. Nil means the system clock. Replicas' clocks may
	// disagree: tests give them skewed ones.
	Clock Clock
}

// RaftServer is one replica of the replicated lock service: the lock
// table as an rsm state machine over raft, served over rpc with the same
// protocol as Server, so that a Client works with either. Reach a cluster
// of them through a ClusterCaller. See the package documentation for
// what replication changes.
//
// A RaftServer is safe for concurrent use by multiple goroutines.
type RaftServer struct {
	rsm   *rsm.RSM
	st    *replicaState
	rpc   *rpc.Server
	id    uint64
	addrs map[uint64]string
	ttl   time.Duration
	clock Clock

	// life is the server's lifetime, as in Server: it ends at Close and
	// cuts short the office loop and the Acquire calls waiting for a
	// grant.
	life context.Context
	stop context.CancelFunc
	wg   sync.WaitGroup // Serve and the office loop
	once sync.Once
	err  error // the rsm's Close error

	// term is the term in which the office loop last saw this replica
	// lead, for the stamps of client commands: reading the node's status
	// for each would wait for the node's loop, which may be saving.
	// A stale term only keeps the command from moving the clock.
	term atomic.Uint64
}

// NewRaftServer starts a replica: its raft node (restarting from
// cfg.Raft.Storage if it holds state) and its rpc server on cfg.Listener.
// It returns raft's error for a bad configuration, and an error for a
// missing Listener or a negative TTL; then it has closed both listeners.
func NewRaftServer(cfg RaftConfig) (*RaftServer, error) {
	if cfg.Listener == nil {
		if cfg.Raft.Listener != nil {
			_ = cfg.Raft.Listener.Close()
		}
		return nil, errors.New("lock: RaftConfig.Listener is required")
	}
	closeAll := func() {
		_ = cfg.Listener.Close()
		if cfg.Raft.Listener != nil {
			_ = cfg.Raft.Listener.Close()
		}
	}
	ttl, delay, err := leaseTimes(cfg.TTL, cfg.LockDelay)
	if err != nil {
		closeAll()
		return nil, err
	}
	var opts []rsm.Option
	if cfg.MaxRaftState > 0 {
		opts = append(opts, rsm.WithMaxRaftState(cfg.MaxRaftState))
	}
	st := newReplicaState(ttl, delay)
	r, err := rsm.New(cfg.Raft, st, opts...)
	if err != nil {
		_ = cfg.Listener.Close()
		return nil, err
	}
	s := &RaftServer{rsm: r, st: st, rpc: rpc.NewServer(cfg.RPCOptions...), id: cfg.Raft.ID,
		addrs: maps.Clone(cfg.ClientAddrs), ttl: ttl, clock: cfg.Clock}
	if s.clock == nil {
		s.clock = systemClock{}
	}
	s.life, s.stop = context.WithCancel(context.Background())
	if err := s.rpc.RegisterName(serviceName, &raftService{s}); err != nil {
		s.stop()
		_ = r.Close()
		_ = cfg.Listener.Close()
		return nil, err // a bug in this package
	}
	s.wg.Go(func() { _ = s.rpc.Serve(cfg.Listener) }) // exits when Close closes s.rpc
	s.wg.Go(s.officeLoop)                             // exits when s.life ends
	return s, nil
}

// leaseTimes applies the defaults to a configured TTL and lock-delay.
func leaseTimes(ttl, delay time.Duration) (time.Duration, time.Duration, error) {
	switch {
	case ttl < 0:
		return 0, 0, fmt.Errorf("lock: TTL is %v, want a positive duration", ttl)
	case ttl == 0:
		ttl = DefaultTTL
	}
	switch {
	case delay == 0:
		delay = DefaultLockDelay
	case delay < 0:
		delay = 0
	}
	return ttl, delay, nil
}

// RSM returns the replica's state machine layer, for its stats and its
// raft node.
func (s *RaftServer) RSM() *rsm.RSM { return s.rsm }

// Locks returns who holds and who waits for each lock, as this replica
// has applied the log so far, sorted by name: a read-only view for demos
// and debugging. A follower's view may lag the leader's.
func (s *RaftServer) Locks() []LockInfo { return s.st.view(s.clock.Now()) }

// Close stops the replica: the office loop, the rpc server (calls in
// progress fail, and their clients go to another replica), then the raft
// node. It waits for every goroutine, returns the raft node's error if it
// stopped on one, and is idempotent.
func (s *RaftServer) Close() error {
	s.once.Do(func() {
		s.stop()
		_ = s.rpc.Close()
		s.wg.Wait()
		s.err = s.rsm.Close()
	})
	return s.err
}

// officeLoop does what only the leader does: on winning an election it
// takes office (moving the table's timeline onto its clock and giving
// every session a fresh TTL), and then proposes a tick whenever a session
// expiry or a lock-delay falls due.
func (s *RaftServer) officeLoop() {
	check := time.NewTicker(officeCheck)
	defer check.Stop()
	for {
		select {
		case <-check.C:
		case <-s.life.Done():
			return
		}
		st := s.rsm.Node().Status()
		if st.State != raft.Leader {
			continue
		}
		s.term.Store(st.Term)
		deadline, inOffice := s.st.due(officeRef{s.id, st.Term})
		switch {
		case !inOffice:
			s.propose(command{Kind: cmdTakeOffice}, st.Term)
		case !deadline.IsZero() && !s.clock.Now().Before(deadline):
			s.propose(command{Kind: cmdTick}, st.Term)
		}
	}
}

// propose submits one of the leader's own commands, giving up after a
// second (the entry may be lost with a term); the loop tries again if
// needed.
func (s *RaftServer) propose(c command, term uint64) {
	ctx, cancel := context.WithTimeout(s.life, time.Second)
	defer cancel()
	c.From, c.Term, c.Stamp = s.id, term, s.clock.Now().UnixNano()
	_, _ = s.rsm.Submit(ctx, rsm.Request{Cmd: c.encode()})
}

// submit stamps c with this leader's identity and clock, puts it through
// the log, and returns its result. If this replica cannot serve it (not
// the leader, or it lost its office meanwhile, or it is closing), it
// returns a redirect instead: every command of the lock service may be
// applied twice without harm, so the client simply sends it again.
func (s *RaftServer) submit(ctx context.Context, c command) (result, *redirect, error) {
	c.From, c.Term, c.Stamp = s.id, s.term.Load(), s.clock.Now().UnixNano()
	out, err := s.rsm.Submit(ctx, rsm.Request{Cmd: c.encode()})
	var nle *raft.NotLeaderError
	switch {
	case err == nil:
		res, err := decodeResult(out)
		if err != nil {
			return result{}, nil, err // a bug: the replica wrote it
		}
		if res.Err != "" {
			return res, nil, errors.New(res.Err)
		}
		return res, nil, nil
	case errors.As(err, &nle):
		return result{}, &redirect{Retry: true, Leader: s.addrs[nle.Leader]}, nil
	case ctx.Err() != nil:
		return result{}, nil, ctx.Err()
	}
	return result{}, &redirect{Retry: true}, nil // not applied, maybe applied, dropped, closed
}

// await holds a queued Acquire until its acquisition is granted or ends,
// poll passes, the client gives up or the server closes. It reads the
// replica's own table: the leader has applied every command that changed
// the acquisition, and each of them is committed.
func (s *RaftServer) await(ctx context.Context, args *acquireArgs) (result, *redirect, error) {
	poll := time.NewTimer(min(args.Poll, maxPoll))
	defer poll.Stop()
	for {
		res, woken := s.st.watch(args.Session, args.Seq)
		if woken == nil {
			return res, nil, nil
		}
		select {
		case <-woken:
		case <-poll.C:
			return res, nil, nil
		case <-ctx.Done():
			return result{}, nil, ctx.Err()
		case <-s.life.Done():
			return result{}, &redirect{Retry: true}, nil
		}
	}
}
