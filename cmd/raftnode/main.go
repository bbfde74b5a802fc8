// Command raftnode runs one server of a raft cluster (package raft, its
// log kept on disk by raft/wal) on a real machine, for a student to watch
// the protocol work: elections, replication, a leader lost and replaced,
// a server restarted from its log.
//
// What it replicates is a log of lines: POST a line to /propose on any
// server's HTTP endpoint; the leader appends it, and every server prints
// it once committed, in the same order everywhere:
//
//	raftnode -config cluster.conf -id 1 -data /var/tmp/raft1 -http :7002
//	curl -d 'hello' 10.0.0.1:7002/propose
//
// Each server also prints when its view of the cluster changes (a new
// term, a new leader), and GET /status answers its state as JSON. SIGINT
// or SIGTERM stops it gracefully: a leader first hands leadership over,
// so that the others need not wait out an election timeout.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/raft"
)

func main() { cli.Main("raftnode", run) }

const about = `Raftnode runs one server of a raft cluster, its log on disk in -data. The
servers are the entries raft1, raft2, ... of -config (or -peers); -id N makes
this one raftN. What it replicates is a log of lines: POST a line to /propose
on the -http endpoint; every server prints each committed line, in log order,
as: applied index=I term=T "LINE". GET /status is the server's state as JSON.
SIGINT or SIGTERM stops it; a leader first hands leadership over.`

type config struct {
	httpAddr string
	grace    time.Duration
	raft     cli.RaftFlags
	cluster  cli.ClusterFlags
	tls      cli.TLSFlags
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("raftnode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "raftnode -id N -data DIR (-config FILE | -peers LIST) [flags]", about)
	var c config
	fs.StringVar(&c.httpAddr, "http", "", "`address` of the HTTP endpoint: GET /status, POST /propose (default: none)")
	fs.DurationVar(&c.grace, "shutdown-timeout", 5*time.Second, "how long a graceful shutdown waits: for a leader to hand over, for requests in progress")
	c.raft.Register(fs)
	c.cluster.Register(fs, "")
	c.tls.Register(fs)
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, cli.Usagef(fs, "raftnode takes no arguments, only flags (got %q)", fs.Arg(0))
	case c.grace < 0:
		return nil, cli.Usagef(fs, "-shutdown-timeout must not be negative")
	}
	if err := c.raft.Load(fs, &c.cluster); err != nil {
		return nil, err
	}
	return &c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(args, stderr)
	if cfg == nil {
		return err
	}
	ncfg, storage, err := cfg.raft.Open(&cfg.tls)
	if err != nil {
		return err
	}
	defer storage.Close() // after the node, which the deferred call below closes
	addr := ncfg.Listener.Addr().String()
	node, err := raft.NewNode(ncfg)
	if err != nil {
		return err
	}
	r := newReplica(node, storage, stdout)
	defer r.close()
	fmt.Fprintf(stdout, "raftnode: server %d listening on %s\n", cfg.raft.ID, addr)

	var hs *cli.HTTPServer
	if cfg.httpAddr != "" {
		base := cli.Status{Program: "raftnode", Addr: addr, TLS: cfg.tls.Enabled(), Start: time.Now(), Peers: peersOf(cfg.raft.Addrs)}
		mux := http.NewServeMux()
		mux.Handle("GET /status", cli.JSONHandler(func() any { return r.status(base.Up(time.Now())) }))
		mux.HandleFunc("POST /propose", r.serveProposal)
		if hs, err = cli.StartHTTP(cfg.httpAddr, mux); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "raftnode: status on http://%s/status\n", hs.Addr())
	}

	if err := cli.WaitRaft(ctx, "raftnode", node, hs); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "raftnode: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.grace)
	defer cancel()
	if to, err := cli.HandOver(sctx, node); to != raft.None {
		fmt.Fprintf(stdout, "raftnode: handed leadership to server %d: %v\n", to, errOK(err))
	}
	var httpErr error
	if hs != nil {
		httpErr = hs.Shutdown(sctx)
	}
	if err := r.close(); err != nil {
		return err
	}
	if httpErr != nil {
		fmt.Fprintf(stderr, "raftnode: requests still running after %v were cut off\n", cfg.grace)
	}
	return nil
}

func errOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// peersOf lists the raft servers as the status shows them.
func peersOf(addrs map[uint64]string) []cli.Peer {
	var ps []cli.Peer
	for _, id := range slices.Sorted(maps.Keys(addrs)) {
		ps = append(ps, cli.Peer{ID: fmt.Sprintf("raft%d", id), Addr: addrs[id]})
	}
	return ps
}
