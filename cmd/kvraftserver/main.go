// Command kvraftserver runs one replica of package kvraft's replicated
// key-value service: the key-value store of package kv (Get, Put, Append,
// compare-and-set PutIf), kept by a raft cluster, so that it survives the
// loss of any minority of its machines. Each replica keeps its raft log on
// disk (raft/wal) and snapshots its store as the log grows.
//
//	kvraftserver -config cluster.conf -id 1 -data /var/tmp/kv1 -http :7082
//	kvclient -config cluster.conf -raft put greeting hello
//
// Clients (cmd/kvclient with -raft, or any kvraft.Clerk) may call any
// replica: a follower names the leader, and a clerk retries until a
// leader answers. Writes carry the clerk's session, so a write resent
// after a lost reply or a leader change applies once; reads are
// linearizable (ReadIndex).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/kvraft"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/rsm"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("kvraftserver", run) }

const about = `Kvraftserver runs one replica of the replicated key-value service (package
kvraft): package kv's store, kept by a raft cluster, its log on disk in -data.
The replicas are the entries raft1, raft2, ... of -config (or -peers), where
they talk raft, and kv1, kv2, ..., where they serve clients; -id N makes this
one raftN and kvN. Clients: kvclient -raft. SIGINT or SIGTERM stops it; a
leader first hands leadership over.`

type config struct {
	listen    string
	httpAddr  string
	grace     time.Duration
	snapBytes int
	clients   map[uint64]string // every replica's client address, if the cluster names them
	raft      cli.RaftFlags
	cluster   cli.ClusterFlags
	tls       cli.TLSFlags
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("kvraftserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "kvraftserver -id N -data DIR (-config FILE | -peers LIST) [flags]", about)
	var c config
	fs.StringVar(&c.listen, "listen", "", "`address` to serve clients on (default: every interface, at the port of kvN)")
	fs.StringVar(&c.httpAddr, "http", "", "`address` of the JSON status endpoint, GET /status (default: none)")
	fs.DurationVar(&c.grace, "shutdown-timeout", 5*time.Second, "how long a graceful shutdown waits for a leader to hand over")
	fs.IntVar(&c.snapBytes, "snapshot-bytes", 1<<20, "snapshot the store once the log has grown by this many `bytes` (0: never)")
	c.raft.Register(fs)
	c.cluster.Register(fs, "")
	c.tls.Register(fs)
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, cli.Usagef(fs, "kvraftserver takes no arguments, only flags (got %q)", fs.Arg(0))
	case c.grace < 0:
		return nil, cli.Usagef(fs, "-shutdown-timeout must not be negative")
	case c.snapBytes < 0:
		return nil, cli.Usagef(fs, "-snapshot-bytes must not be negative")
	}
	if err := c.raft.Load(fs, &c.cluster); err != nil {
		return nil, err
	}
	// The client addresses are optional: with them, a follower can tell a
	// clerk where the leader is; without, clerks try each replica in turn.
	clients, err := c.raft.Cluster.Numbered("kv")
	if err != nil && !errors.Is(err, cli.ErrNoNumbered) {
		return nil, cli.Usagef(fs, "%v", err)
	}
	c.clients = clients
	if c.listen == "" {
		own, ok := c.clients[c.raft.ID]
		if !ok {
			return nil, cli.Usagef(fs, "where do clients connect? give -listen, or an entry kv%d", c.raft.ID)
		}
		c.listen = cli.Peer{Addr: own}.ListenAddr()
	}
	return &c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(args, stderr)
	if cfg == nil {
		return err
	}
	tlsCfg, err := cfg.tls.ServerConfig()
	if err != nil {
		return err
	}
	var topts []transport.Option
	if tlsCfg != nil {
		topts = append(topts, transport.WithTLS(tlsCfg))
	}
	ncfg, storage, err := cfg.raft.Open(&cfg.tls)
	if err != nil {
		return err
	}
	defer storage.Close() // after the replica, which closes its node
	tl, err := transport.ListenTCP(cfg.listen, topts...)
	if err != nil {
		_ = ncfg.Listener.Close()
		return err
	}
	l := cli.NewCountingListener(tl)
	raftAddr := ncfg.Listener.Addr().String()
	srv, err := kvraft.NewServer(kvraft.Config{Raft: ncfg, Listener: l, ClientAddrs: cfg.clients, MaxRaftState: cfg.snapBytes})
	if err != nil {
		return err
	}
	defer srv.Close()
	node := srv.RSM().Node()
	fmt.Fprintf(stdout, "kvraftserver: replica %d listening on %s, raft on %s\n", cfg.raft.ID, l.Addr(), raftAddr)
	stopWatch := cli.WatchRaft("kvraftserver", node, stdout)
	defer stopWatch()

	var hs *cli.HTTPServer
	if cfg.httpAddr != "" {
		base := cli.Status{Program: "kvraftserver", Addr: l.Addr().String(), TLS: tlsCfg != nil, Start: time.Now(), Peers: cfg.raft.Cluster.Peers}
		snapshot := func() any {
			return status{Status: base.Up(time.Now()), RaftStatus: cli.RaftStatusOf(node),
				Conns: l.Open(), Accepted: l.Accepted(), Replica: replicaStatusOf(srv.RSM().Stats())}
		}
		if hs, err = cli.StartHTTP(cfg.httpAddr, cli.JSONHandler(snapshot)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "kvraftserver: status on http://%s/status\n", hs.Addr())
	}

	<-ctx.Done()
	fmt.Fprintln(stdout, "kvraftserver: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.grace)
	defer cancel()
	// A leader hands over first: the clerks' calls in progress here fail
	// when the server closes, and they retry at the new leader, which
	// then needs no election timeout to exist.
	if to, err := cli.HandOver(sctx, node); to != raft.None {
		fmt.Fprintf(stdout, "kvraftserver: handed leadership to replica %d: %v\n", to, errOK(err))
	}
	if hs != nil {
		_ = hs.Shutdown(sctx) // status requests are quick; cut off what is left
	}
	return srv.Close()
}

func errOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// status is the JSON of GET /status.
type status struct {
	cli.Status
	cli.RaftStatus
	Conns    int64         `json:"conns"`          // clerk connections open now
	Accepted int64         `json:"conns_accepted"` // since the start
	Replica  replicaStatus `json:"replica"`
}

// replicaStatus is the replica's rsm.Stats.
type replicaStatus struct {
	Applied    uint64 `json:"applied"`    // writes applied to the store
	Duplicates uint64 `json:"duplicates"` // writes skipped as resent copies
	Queries    uint64 `json:"queries"`    // reads through the log
	Snapshots  uint64 `json:"snapshots"`  // snapshots taken
	Restores   uint64 `json:"restores"`   // snapshots installed
}

func replicaStatusOf(s rsm.Stats) replicaStatus {
	return replicaStatus{s.Applied, s.Duplicates, s.Queries, s.Snapshots, s.Restores}
}
