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
	"flag"
	"io"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/kvraft"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("kvraftserver", run) }

const about = `Kvraftserver runs one replica of the replicated key-value service (package
kvraft): package kv's store, kept by a raft cluster, its log on disk in -data.
The replicas are the entries raft1, raft2, ... of -config (or -peers), where
they talk raft, and kv1, kv2, ..., where they serve clients; -id N makes this
one raftN and kvN. Clients: kvclient -raft. SIGINT or SIGTERM stops it; a
leader first hands leadership over.`

func parse(args []string, stderr io.Writer) (*cli.ReplicaFlags, error) {
	fs := flag.NewFlagSet("kvraftserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "kvraftserver -id N -data DIR (-config FILE | -peers LIST) [flags]", about)
	var f cli.ReplicaFlags
	f.Register(fs, "kv", "the store")
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	if err := f.Load(fs); err != nil {
		return nil, err
	}
	return &f, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parse(args, stderr)
	if f == nil {
		return err
	}
	return cli.RunReplica(ctx, f, cli.ReplicaProgram[*kvraft.Server]{
		Name: "kvraftserver",
		Start: func(ncfg raft.NodeConfig, l transport.Listener) (*kvraft.Server, error) {
			return kvraft.NewServer(kvraft.Config{Raft: ncfg, Listener: l, ClientAddrs: f.Clients, MaxRaftState: f.SnapBytes})
		},
		Status: func(_ *kvraft.Server, common cli.ReplicaStatus) any { return common },
	}, stdout)
}
