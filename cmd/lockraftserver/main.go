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
	"flag"
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
	cli.ReplicaFlags
	ttl       time.Duration
	lockDelay time.Duration
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("lockraftserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "lockraftserver -id N -data DIR (-config FILE | -peers LIST) [flags]", about)
	var c config
	c.Register(fs, "lock", "the lock table")
	fs.DurationVar(&c.ttl, "ttl", lock.DefaultTTL, "how long a client's session, and its leases, last without a renewal (the same on every replica)")
	lockDelay := cli.LockDelayFlag(fs, "how long a lock whose holder's session expired stays ungranted (the same on every replica)")
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	c.lockDelay = cli.LockDelay(*lockDelay)
	if c.ttl <= 0 {
		return nil, cli.Usagef(fs, "-ttl must be positive")
	}
	if err := c.Load(fs); err != nil {
		return nil, err
	}
	return &c, nil
}

// run runs the replica. When a leader hands over on shutdown, the new
// leader gives every session a full TTL, so no lease is lost.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(args, stderr)
	if cfg == nil {
		return err
	}
	return cli.RunReplica(ctx, &cfg.ReplicaFlags, cli.ReplicaProgram[*lock.RaftServer]{
		Name: "lockraftserver",
		Start: func(ncfg raft.NodeConfig, l transport.Listener) (*lock.RaftServer, error) {
			return lock.NewRaftServer(lock.RaftConfig{Raft: ncfg, Listener: l, ClientAddrs: cfg.Clients,
				TTL: cfg.ttl, LockDelay: cfg.lockDelay, MaxRaftState: cfg.SnapBytes})
		},
		Status: statusOf,
	}, stdout)
}
