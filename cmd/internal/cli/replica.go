package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rsm"
	"github.com/distsys-kit/distsys/transport"
)

// ReplicaFlags are the flags of a program that runs one replica of a
// service replicated by package rsm (kvraftserver, lockraftserver): where
// it serves clients, its status endpoint, its shutdown and snapshot
// settings, and its raft, cluster and TLS flags. Clients is filled in by
// Load from the cluster's entries PREFIX1, PREFIX2, ....
type ReplicaFlags struct {
	Listen    string
	HTTP      string
	Grace     time.Duration
	SnapBytes int
	Clients   map[uint64]string // every replica's client address, if the cluster names them
	Raft      RaftFlags
	Cluster   ClusterFlags
	TLS       TLSFlags

	prefix string // of the client entries: "kv" for kv1, kv2, ...
}

// Register defines the flags on fs. prefix names the client entries
// ("kv"), and what the service's state is called in -snapshot-bytes' help
// ("the store").
func (f *ReplicaFlags) Register(fs *flag.FlagSet, prefix, what string) {
	f.prefix = prefix
	fs.StringVar(&f.Listen, "listen", "", fmt.Sprintf("`address` to serve clients on (default: every interface, at the port of %sN)", prefix))
	fs.StringVar(&f.HTTP, "http", "", "`address` of the JSON status endpoint, GET /status (default: none)")
	fs.DurationVar(&f.Grace, "shutdown-timeout", 5*time.Second, "how long a graceful shutdown waits for a leader to hand over")
	fs.IntVar(&f.SnapBytes, "snapshot-bytes", 1<<20, "snapshot "+what+" once the log has grown by this many `bytes` (0: never)")
	f.Raft.Register(fs)
	f.Cluster.Register(fs, "")
	f.TLS.Register(fs)
}

// Load checks the flags once fs is parsed, loads the raft flags, and
// finds the client addresses. The client entries are optional: with them
// a follower can tell a client where the leader is; without, clients try
// each replica in turn. A malformed one is an error all the same.
func (f *ReplicaFlags) Load(fs *flag.FlagSet) error {
	switch {
	case fs.NArg() > 0:
		return Usagef(fs, "%s takes no arguments, only flags (got %q)", fs.Name(), fs.Arg(0))
	case f.Grace < 0:
		return Usagef(fs, "-shutdown-timeout must not be negative")
	case f.SnapBytes < 0:
		return Usagef(fs, "-snapshot-bytes must not be negative")
	}
	if err := f.Raft.Load(fs, &f.Cluster); err != nil {
		return err
	}
	clients, err := f.Raft.Cluster.Numbered(f.prefix)
	if err != nil && !errors.Is(err, ErrNoNumbered) {
		return Usagef(fs, "%v", err)
	}
	f.Clients = clients
	if f.Listen == "" {
		own, ok := f.Clients[f.Raft.ID]
		if !ok {
			return Usagef(fs, "where do clients connect? give -listen, or an entry %s%d", f.prefix, f.Raft.ID)
		}
		f.Listen = Peer{Addr: own}.ListenAddr()
	}
	return nil
}

// Replica is a running replica: kvraft.Server and lock.RaftServer are.
type Replica interface {
	RSM() *rsm.RSM
	Close() error
}

// ReplicaProgram is what differs between the programs that RunReplica
// runs: their name, how to start their server, and their status.
type ReplicaProgram[R Replica] struct {
	Name string
	// Start starts the server on the raft node config and the client
	// listener.
	Start func(ncfg raft.NodeConfig, l transport.Listener) (R, error)
	// Status returns the JSON of GET /status, given the common part.
	Status func(srv R, common ReplicaStatus) any
}

// RunReplica runs one replica until ctx ends: it opens the raft log and
// the client listener, starts the server, prints elections, serves the
// status, and on shutdown has a leader hand over first: the clients'
// calls in progress fail when the server closes, and they resend them to
// the new leader, which then needs no election timeout to exist.
func RunReplica[R Replica](ctx context.Context, f *ReplicaFlags, p ReplicaProgram[R], stdout io.Writer) error {
	tlsCfg, err := f.TLS.ServerConfig()
	if err != nil {
		return err
	}
	var topts []transport.Option
	if tlsCfg != nil {
		topts = append(topts, transport.WithTLS(tlsCfg))
	}
	ncfg, storage, err := f.Raft.Open(&f.TLS)
	if err != nil {
		return err
	}
	defer storage.Close() // after the replica, which closes its node
	tl, err := transport.ListenTCP(f.Listen, topts...)
	if err != nil {
		_ = ncfg.Listener.Close()
		return err
	}
	l := NewCountingListener(tl)
	raftAddr := ncfg.Listener.Addr().String()
	srv, err := p.Start(ncfg, l)
	if err != nil {
		return err
	}
	defer srv.Close()
	node := srv.RSM().Node()
	fmt.Fprintf(stdout, "%s: replica %d listening on %s, raft on %s\n", p.Name, f.Raft.ID, l.Addr(), raftAddr)
	stopWatch := WatchRaft(p.Name, node, stdout)
	defer stopWatch()

	var hs *HTTPServer
	if f.HTTP != "" {
		base := Status{Program: p.Name, Addr: l.Addr().String(), TLS: tlsCfg != nil, Start: time.Now(), Peers: f.Raft.Cluster.Peers}
		snapshot := func() any {
			return p.Status(srv, ReplicaStatus{Status: base.Up(time.Now()), RaftStatus: RaftStatusOf(node),
				Conns: l.Open(), Accepted: l.Accepted(), Replica: rsmStatusOf(srv.RSM().Stats())})
		}
		if hs, err = StartHTTP(f.HTTP, JSONHandler(snapshot)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: status on http://%s/status\n", p.Name, hs.Addr())
	}

	if err := WaitRaft(ctx, p.Name, node, hs); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: shutting down\n", p.Name)
	sctx, cancel := context.WithTimeout(context.Background(), f.Grace)
	defer cancel()
	if to, err := HandOver(sctx, node); to != raft.None {
		outcome := "ok"
		if err != nil {
			outcome = err.Error()
		}
		fmt.Fprintf(stdout, "%s: handed leadership to replica %d: %s\n", p.Name, to, outcome)
	}
	if hs != nil {
		_ = hs.Shutdown(sctx) // status requests are quick; cut off what is left
	}
	return srv.Close()
}

// ReplicaStatus is the part of a replica's GET /status that every
// replicated service has.
type ReplicaStatus struct {
	Status
	RaftStatus
	Conns    int64     `json:"conns"`          // client connections open now
	Accepted int64     `json:"conns_accepted"` // since the start
	Replica  RSMStatus `json:"replica"`
}

// RSMStatus is the replica's rsm.Stats.
type RSMStatus struct {
	Applied    uint64 `json:"applied"`    // commands applied to the state
	Duplicates uint64 `json:"duplicates"` // commands skipped as resent copies
	Queries    uint64 `json:"queries"`    // reads through the log
	Snapshots  uint64 `json:"snapshots"`  // snapshots taken
	Restores   uint64 `json:"restores"`   // snapshots installed
}

func rsmStatusOf(s rsm.Stats) RSMStatus {
	return RSMStatus{s.Applied, s.Duplicates, s.Queries, s.Snapshots, s.Restores}
}
