package kvraft

import (
	"context"
	"errors"
	"maps"
	"sync"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/rsm"
	"github.com/distsys-kit/distsys/transport"
)

// ServiceName is the rpc service a Server registers: clerks call
// "KVRaft.Get", "KVRaft.Put", "KVRaft.Append" and "KVRaft.PutIf".
const ServiceName = "KVRaft"

// Config configures one replica of the service.
type Config struct {
	// Raft configures the replica's raft node: its ID, Storage (a
	// raft/wal to survive crashes), the peers' raft addresses, its raft
	// Listener and Dialer. Required.
	Raft raft.NodeConfig
	// Listener is where clerks connect (netsim in tests, TCP in
	// programs). The Server owns it and closes it on Close. Required.
	Listener transport.Listener
	// ClientAddrs maps each replica's raft ID to the address of its
	// clerk Listener, so that a follower can tell a clerk where the
	// leader is. Optional: without it, clerks search.
	ClientAddrs map[uint64]string
	// MaxRaftState makes the replica snapshot once its log grows by this
	// many bytes (see rsm.WithMaxRaftState); 0 never does.
	MaxRaftState int
	// ReadsThroughLog puts Gets in the log instead of using ReadIndex.
	ReadsThroughLog bool
	// RPCOptions configure the clerks' rpc server (tracing, limits).
	RPCOptions []rpc.ServerOption
}

// Server is one replica of the key-value service: an rsm.RSM of the
// key-value state, served over rpc. Its methods are safe for concurrent
// use.
type Server struct {
	rsm     *rsm.RSM
	rpc     *rpc.Server
	addrs   map[uint64]string
	serving sync.WaitGroup

	// noDedup makes the server submit writes without the clerk's session,
	// so a resent write applies again. Only tests set it (export_test.go),
	// to show that the linearizability checker catches the bug.
	noDedup bool
}

// NewServer starts a replica: its raft node (restarting from
// cfg.Raft.Storage if it holds state) and its rpc server on cfg.Listener.
// It returns raft's error for a bad configuration; then it has closed
// both listeners.
func NewServer(cfg Config) (*Server, error) {
	var opts []rsm.Option
	if cfg.MaxRaftState > 0 {
		opts = append(opts, rsm.WithMaxRaftState(cfg.MaxRaftState))
	}
	if cfg.ReadsThroughLog {
		opts = append(opts, rsm.WithReadsThroughLog())
	}
	r, err := rsm.New(cfg.Raft, newState(), opts...)
	if err != nil {
		_ = cfg.Listener.Close()
		return nil, err
	}
	s := &Server{rsm: r, rpc: rpc.NewServer(cfg.RPCOptions...), addrs: maps.Clone(cfg.ClientAddrs)}
	if err := s.rpc.RegisterName(ServiceName, &service{s}); err != nil {
		_ = r.Close()
		_ = cfg.Listener.Close()
		return nil, err
	}
	s.serving.Go(func() { _ = s.rpc.Serve(cfg.Listener) }) // exits when Close closes s.rpc
	return s, nil
}

// RSM returns the replica's state machine layer, for its stats and its
// raft node.
func (s *Server) RSM() *rsm.RSM { return s.rsm }

// Close stops the replica: the rpc server (pending calls fail), then the
// raft node. It waits for every goroutine and is idempotent.
func (s *Server) Close() error {
	_ = s.rpc.Close()
	s.serving.Wait()
	return s.rsm.Close()
}

// Status says how a call went, in a Reply.
type Status uint8

// The outcomes of a call.
const (
	OK          Status = iota // done: see Found, Applied, Value, Version
	WrongLeader               // not applied: ask Leader, or another replica
	NotApplied                // not applied: retry
	Maybe                     // may or may not be applied: retry with the same Seq
)

// Args is a call's arguments: the operation and the clerk's session.
// It is exported because rpc encodes it; a Clerk builds it.
type Args struct {
	Key, Value  string
	Version     uint64 // PutIf: the version Key must be at
	Client, Seq uint64 // the clerk's session (writes)
}

// Reply is a call's result. It is exported because rpc encodes it.
type Reply struct {
	Status  Status
	Leader  string // WrongLeader: the leader's clerk address, if known
	Found   bool   // Get: whether Key exists; PutIf: whether it applied
	Value   string // Get: Key's value
	Version uint64 // Key's version after the call
}

// service adapts a Server to rpc's method shape.
type service struct{ s *Server }

func (v *service) Get(ctx context.Context, a *Args, r *Reply) error {
	return v.s.do(ctx, op{kind: opGet, key: a.Key}, a, r)
}

func (v *service) Put(ctx context.Context, a *Args, r *Reply) error {
	return v.s.do(ctx, op{kind: opPut, key: a.Key, value: a.Value}, a, r)
}

func (v *service) Append(ctx context.Context, a *Args, r *Reply) error {
	return v.s.do(ctx, op{kind: opAppend, key: a.Key, value: a.Value}, a, r)
}

func (v *service) PutIf(ctx context.Context, a *Args, r *Reply) error {
	return v.s.do(ctx, op{kind: opPutIf, key: a.Key, value: a.Value, version: a.Version}, a, r)
}

// do runs o through the replicated state machine and fills r.
func (s *Server) do(ctx context.Context, o op, a *Args, r *Reply) error {
	var res []byte
	var err error
	if o.kind == opGet {
		res, err = s.rsm.Read(ctx, o.encode())
	} else {
		req := rsm.Request{Client: a.Client, Seq: a.Seq, Cmd: o.encode()}
		if s.noDedup {
			req.Client, req.Seq = 0, 0
		}
		res, err = s.rsm.Submit(ctx, req)
	}
	var nle *raft.NotLeaderError
	switch {
	case err == nil:
		out, err := decodeOutcome(res)
		if err != nil {
			return err // the state machine disagrees with this server: a bug
		}
		r.Status, r.Found, r.Value, r.Version = OK, out.ok, out.entry.Value, out.entry.Version
	case errors.Is(err, rsm.ErrMaybeApplied):
		r.Status = Maybe
		if errors.As(err, &nle) {
			r.Leader = s.addrs[nle.Leader]
		}
	case errors.As(err, &nle):
		r.Status, r.Leader = WrongLeader, s.addrs[nle.Leader]
	case errors.Is(err, rsm.ErrNotApplied), errors.Is(err, raft.ErrProposalDropped):
		r.Status = NotApplied
	case ctx.Err() != nil: // a Get whose caller gave up
		r.Status = NotApplied
	default:
		return err // closed, a stale request, a damaged replica
	}
	return nil
}
