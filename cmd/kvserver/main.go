// Command kvserver serves a key-value store over rpc on TCP, or TLS: the
// single-server store of examples/kv (versioned entries, Add, a
// compare-and-set Put), for clients on other machines, such as
// cmd/kvclient. Clients that retry with rpc.WithRetry get at-most-once
// execution: a resent Add runs once.
//
//	kvserver -listen :7080 -http :7081
//
// The store lives in memory: a restart loses it. SIGINT or SIGTERM stops
// the server gracefully: it stops accepting clients, refuses new calls,
// lets the calls in progress finish for up to -shutdown-timeout, then
// closes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/cmd/internal/kvstore"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("kvserver", run) }

const about = `Kvserver serves a key-value store (Get, Add, compare-and-set Put) over rpc.
The store is in memory. SIGINT or SIGTERM stops it gracefully.`

type config struct {
	listen   string
	httpAddr string
	grace    time.Duration
	cluster  cli.ClusterFlags
	tls      cli.TLSFlags
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("kvserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "kvserver [flags]", about)
	var c config
	fs.StringVar(&c.listen, "listen", ":7080", "`address` to serve clients on")
	fs.StringVar(&c.httpAddr, "http", "", "`address` of the JSON status endpoint, GET /status (default: none)")
	fs.DurationVar(&c.grace, "shutdown-timeout", 5*time.Second, "how long a graceful shutdown waits for calls in progress")
	c.cluster.Register(fs, "kv")
	c.tls.Register(fs)
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, cli.Usagef(fs, "kvserver takes no arguments, only flags (got %q)", fs.Arg(0))
	case c.grace < 0:
		return nil, cli.Usagef(fs, "-shutdown-timeout must not be negative")
	}
	if err := c.cluster.Load(); err != nil {
		return nil, err
	}
	var err error
	c.listen, err = c.cluster.ListenAddr(fs, c.listen)
	return &c, err
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
	tl, err := transport.ListenTCP(cfg.listen, topts...)
	if err != nil {
		return err
	}
	l := cli.NewCountingListener(tl)

	store := kvstore.New()
	srv := rpc.NewServer(rpc.WithErrors(kvstore.Errors...))
	defer srv.Close()
	if err := store.Register(srv); err != nil {
		_ = l.Close()
		return err // a bug in kvstore
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when srv is shut down or l fails
	fmt.Fprintf(stdout, "kvserver: listening on %s\n", l.Addr())

	base := cli.Status{Program: "kvserver", Addr: l.Addr().String(), TLS: tlsCfg != nil, Start: time.Now(), Peers: cfg.cluster.Cluster.Peers}
	var hs *cli.HTTPServer
	if cfg.httpAddr != "" {
		snapshot := func() any {
			return status{Status: base.Up(time.Now()), Conns: l.Open(), Accepted: l.Accepted(), RPC: rpcStatusOf(srv.Stats()), Store: store.Stats()}
		}
		if hs, err = cli.StartHTTP(cfg.httpAddr, cli.JSONHandler(snapshot)); err != nil {
			_ = srv.Close()
			<-served
			return err
		}
		fmt.Fprintf(stdout, "kvserver: status on http://%s/status\n", hs.Addr())
	}

	select {
	case <-ctx.Done():
	case err = <-served: // the listener failed
		served <- err
	}
	fmt.Fprintln(stdout, "kvserver: shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.grace)
	defer cancel()
	// Shutdown closes the listener, refuses new calls, and waits for those
	// in progress; Close then cuts off whatever is left.
	drained := srv.Shutdown(sctx)
	_ = srv.Close()
	serveErr := <-served
	var httpErr error
	if hs != nil {
		httpErr = hs.Shutdown(sctx)
	}
	if serveErr != nil && !errors.Is(serveErr, rpc.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if drained != nil || httpErr != nil {
		fmt.Fprintf(stderr, "kvserver: requests still running after %v were cut off\n", cfg.grace)
	}
	return nil
}

// status is the JSON of GET /status.
type status struct {
	cli.Status
	Conns    int64         `json:"conns"`          // open now
	Accepted int64         `json:"conns_accepted"` // since the start
	RPC      rpcStatus     `json:"rpc"`
	Store    kvstore.Stats `json:"store"`
}

// rpcStatus is the server's rpc.Stats.
type rpcStatus struct {
	Calls         int64 `json:"calls"`      // requests received, duplicates included
	Errors        int64 `json:"errors"`     // replies that carried an error
	Duplicates    int64 `json:"duplicates"` // requests answered from the reply cache
	BytesSent     int64 `json:"bytes_sent"`
	BytesReceived int64 `json:"bytes_received"`
}

func rpcStatusOf(s rpc.Stats) rpcStatus {
	return rpcStatus{s.Calls, s.Errors, s.Duplicates, s.BytesSent, s.BytesReceived}
}
