// Command lockraftserver runs one replica of the replicated lock service
// (lock.RaftServer): the lock table of package lock (named locks, leases,
// FIFO waiting, fencing tokens), kept by a raft cluster, so that the
// service goes on, and no token is issued twice, while any minority of
// its machines is down or cut off. Each replica keeps its raft log on
// disk (raft/wal) and snapshots its table as the log grows.
//
//	lockraftserver -config cluster.conf -id 1 -data /var/tmp/lock1 -http :7072
//	lockclient -raft -config cluster.conf -lock report
//
// Clients (cmd/lockclient with -raft, or lock.NewClient over a
// lock.ClusterCaller) may call any replica: a follower names the leader,
// and the caller moves on until a leader answers. A new leader gives
// every session a full TTL, so a leader's loss costs the clients an
// election, not their locks.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("lockraftserver", run) }

const about = `Lockraftserver runs one replica of the replicated lock service
(lock.RaftServer): package lock's table of leases and fencing tokens, kept by a
raft cluster, its log on disk in -data. The replicas are the entries raft1,
raft2, ... of -config (or -peers), where they talk raft, and lock1, lock2, ...,
where they serve clients; -id N makes this one raftN and lockN. Every replica
must have the same -ttl and -lock-delay. Clients: lockclient -raft. SIGINT or
SIGTERM stops it; a leader first hands leadership over.`

type config struct {
	listen    string
	httpAddr  string
	grace     time.Duration
	ttl       time.Duration
	lockDelay time.Duration
	snapBytes int
	clients   map[uint64]string // every replica's client address, if the cluster names them
	raft      cli.RaftFlags
	cluster   cli.ClusterFlags
	tls       cli.TLSFlags
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("lockraftserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "lockraftserver -id N -data DIR (-config FILE | -peers LIST) [flags]", about)
	var c config
	fs.StringVar(&c.listen, "listen", "", "`address` to serve lock clients on (default: every interface, at the port of lockN)")
	fs.StringVar(&c.httpAddr, "http", "", "`address` of the JSON status endpoint, GET /status (default: none)")
	fs.DurationVar(&c.grace, "shutdown-timeout", 5*time.Second, "how long a graceful shutdown waits for a leader to hand over")
	fs.DurationVar(&c.ttl, "ttl", lock.DefaultTTL, "how long a client's session, and its leases, last without a renewal (the same on every replica)")
	fs.DurationVar(&c.lockDelay, "lock-delay", lock.DefaultLockDelay, "how long a lock whose holder's session expired stays ungranted, negative for none (the same on every replica)")
	fs.IntVar(&c.snapBytes, "snapshot-bytes", 1<<20, "snapshot the lock table once the log has grown by this many `bytes` (0: never)")
	c.raft.Register(fs)
	c.cluster.Register(fs, "")
	c.tls.Register(fs)
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, cli.Usagef(fs, "lockraftserver takes no arguments, only flags (got %q)", fs.Arg(0))
	case c.grace < 0:
		return nil, cli.Usagef(fs, "-shutdown-timeout must not be negative")
	case c.ttl <= 0:
		return nil, cli.Usagef(fs, "-ttl must be positive")
	case c.snapBytes < 0:
		return nil, cli.Usagef(fs, "-snapshot-bytes must not be negative")
	}
	if err := c.raft.Load(fs, &c.cluster); err != nil {
		return nil, err
	}
	// The client addresses are optional: with them, a follower can tell a
	// client where the leader is; without, clients try each replica in turn.
	clients, err := c.raft.Cluster.Numbered("lock")
	if err != nil && !errors.Is(err, cli.ErrNoNumbered) {
		return nil, cli.Usagef(fs, "%v", err)
	}
	c.clients = clients
	if c.listen == "" {
		own, ok := c.clients[c.raft.ID]
		if !ok {
			return nil, cli.Usagef(fs, "where do clients connect? give -listen, or an entry lock%d", c.raft.ID)
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
	srv, err := lock.NewRaftServer(lock.RaftConfig{Raft: ncfg, Listener: l, ClientAddrs: cfg.clients,
		TTL: cfg.ttl, LockDelay: cfg.lockDelay, MaxRaftState: cfg.snapBytes})
	if err != nil {
		return err
	}
	defer srv.Close()
	node := srv.RSM().Node()
	fmt.Fprintf(stdout, "lockraftserver: replica %d listening on %s, raft on %s\n", cfg.raft.ID, l.Addr(), raftAddr)
	stopWatch := cli.WatchRaft("lockraftserver", node, stdout)
	defer stopWatch()

	var hs *cli.HTTPServer
	if cfg.httpAddr != "" {
		base := cli.Status{Program: "lockraftserver", Addr: l.Addr().String(), TLS: tlsCfg != nil, Start: time.Now(), Peers: cfg.raft.Cluster.Peers}
		snapshot := func() any { return statusOf(base, srv, l) }
		if hs, err = cli.StartHTTP(cfg.httpAddr, cli.JSONHandler(snapshot)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "lockraftserver: status on http://%s/status\n", hs.Addr())
	}

	<-ctx.Done()
	fmt.Fprintln(stdout, "lockraftserver: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.grace)
	defer cancel()
	// A leader hands over first: the clients' calls in progress here fail
	// when the server closes (a waiting Lock too), and they resend them
	// to the new leader, which then needs no election timeout to exist.
	// The new leader gives every session a full TTL, so no lease is lost.
	if to, err := cli.HandOver(sctx, node); to != raft.None {
		fmt.Fprintf(stdout, "lockraftserver: handed leadership to replica %d: %v\n", to, errOK(err))
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
