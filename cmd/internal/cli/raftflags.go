package cli

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
	"github.com/distsys-kit/distsys/transport"
)

// RaftFlags are the flags of a program that runs one server of a raft
// cluster (raftnode, kvraftserver, lockraftserver): its number, where it
// keeps its log, and its peers, which come from -peers or from the
// cluster file's entries raft1, raft2, ... (see Cluster.Numbered):
//
//	-id N          this server's number: it is entry raftN
//	-data DIR      its write-ahead log (raft/wal), kept across restarts
//	-peers LIST    raft1=host:port,raft2=host:port,... instead of -config
//	-raft-listen   where it listens for its peers (default: raftN's port)
//	-tick D        the clock of raft: elections after 10 to 20 ticks of
//	               silence, heartbeats every tick
type RaftFlags struct {
	ID     uint64
	Dir    string
	Peers  string
	Listen string
	Tick   time.Duration

	Addrs   map[uint64]string // every server's raft address, after Load
	Cluster Cluster           // where they came from (-peers or -config), after Load
}

// Register adds the flags to fs.
func (f *RaftFlags) Register(fs *flag.FlagSet) {
	fs.Uint64Var(&f.ID, "id", 0, "this server's `number` N: it is entry raftN of -peers or the cluster file (required)")
	fs.StringVar(&f.Dir, "data", "", "`directory` of this server's write-ahead log, kept across restarts (required)")
	fs.StringVar(&f.Peers, "peers", "", "the cluster's entries as a `list` id=host:port,... (raft1=host:port,raft2=...), instead of -config")
	fs.StringVar(&f.Listen, "raft-listen", "", "`address` to listen on for the other raft servers (default: every interface, at the port of raftN)")
	fs.DurationVar(&f.Tick, "tick", raft.DefaultTickInterval, "raft's clock: elections after 10 to 20 ticks without a leader, heartbeats every tick")
}

// Load checks the flags and finds the peers: in -peers if given, else in
// cf's cluster file, which it loads. It returns usage errors through
// Usagef, others as they are.
func (f *RaftFlags) Load(fs *flag.FlagSet, cf *ClusterFlags) error {
	switch {
	case f.ID == 0:
		return Usagef(fs, "-id is required: this server's number, 1 for raft1")
	case f.Dir == "":
		return Usagef(fs, "-data is required: the directory of this server's log")
	case f.Tick <= 0:
		return Usagef(fs, "-tick must be positive")
	case f.Peers != "" && cf.File != "":
		return Usagef(fs, "give the raft servers with -peers or -config, not both")
	case f.Peers == "" && cf.File == "":
		return Usagef(fs, "which raft servers? give -config FILE or -peers raft1=host:port,...")
	}
	if err := cf.Load(); err != nil {
		return err
	}
	c, where := cf.Cluster, cf.File
	if f.Peers != "" {
		var err error
		if c, err = ParsePeerList(f.Peers); err != nil {
			return err
		}
		where = "-peers"
	}
	addrs, err := c.Numbered("raft")
	if err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	own, ok := addrs[f.ID]
	if !ok {
		return fmt.Errorf("%s: -id %d: no entry raft%d", where, f.ID, f.ID)
	}
	if f.Listen == "" {
		f.Listen = Peer{Addr: own}.ListenAddr()
	}
	f.Addrs, f.Cluster = addrs, c
	return nil
}

// Open opens the log in -data and listens for the peers, with TLS if tf
// has it (a server that dials its peers presents -tls-cert to them too,
// for mutual TLS). It returns the node's configuration, whose Listener
// the node will own, and the log, which the caller closes after the node.
func (f *RaftFlags) Open(tf *TLSFlags) (raft.NodeConfig, *wal.Storage, error) {
	var lopts, dopts []transport.Option
	scfg, err := tf.ServerConfig()
	if err != nil {
		return raft.NodeConfig{}, nil, err
	}
	ccfg, err := tf.ClientConfig()
	if err != nil {
		return raft.NodeConfig{}, nil, err
	}
	if scfg != nil {
		lopts = append(lopts, transport.WithTLS(scfg))
		dopts = append(dopts, transport.WithTLS(ccfg))
	}
	storage, err := wal.Open(f.Dir)
	if err != nil {
		return raft.NodeConfig{}, nil, fmt.Errorf("-data: %w", err)
	}
	l, err := transport.ListenTCP(f.Listen, lopts...)
	if err != nil {
		return raft.NodeConfig{}, nil, errors.Join(err, storage.Close())
	}
	return raft.NodeConfig{
		// PreVote and CheckQuorum: a server back from a partition does not
		// depose a working leader, and a leader cut off steps down.
		Config:       raft.Config{ID: f.ID, Storage: storage, PreVote: true, CheckQuorum: true},
		Addrs:        f.Addrs,
		Listener:     l,
		Dialer:       transport.NewTCPDialer(dopts...),
		TickInterval: f.Tick,
	}, storage, nil
}
