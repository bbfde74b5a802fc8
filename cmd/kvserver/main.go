// Command kvserver serves package kv's key-value service over rpc on TCP,
// or TLS: string values with a version each; Get, Put, Append and the
// compare-and-set PutIf; for clients on other machines, such as
// cmd/kvclient. Clients that retry with rpc.WithRetry get at-most-once
// execution from the server's reply cache: a resent Append runs once.
// The store is bounded (kv.Limits): a write over a limit is refused with
// an error matching kv.ErrTooLarge or kv.ErrFull.
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
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("kvserver", run) }

const about = `Kvserver serves package kv's key-value store (Get, Put, Append, compare-and-set
PutIf) over rpc. The store is in memory, within the -max limits: a write over
one is refused. SIGINT or SIGTERM stops it gracefully.`

type config struct {
	listen   string
	httpAddr string
	grace    time.Duration
	limits   kv.Limits
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
	fs.IntVar(&c.limits.MaxKeyLen, "max-key-len", kv.DefaultMaxKeyLen, "longest key, in bytes (negative: no limit)")
	fs.IntVar(&c.limits.MaxValueLen, "max-value-len", kv.DefaultMaxValueLen, "longest value, in bytes (negative: no limit)")
	fs.IntVar(&c.limits.MaxKeys, "max-keys", kv.DefaultMaxKeys, "most keys the store holds (negative: no limit)")
	fs.Int64Var(&c.limits.MaxBytes, "max-bytes", kv.DefaultMaxBytes, "most bytes of keys and values the store holds (negative: no limit)")
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
	case c.limits.MaxKeyLen == 0 || c.limits.MaxValueLen == 0 || c.limits.MaxKeys == 0 || c.limits.MaxBytes == 0:
		return nil, cli.Usagef(fs, "a -max limit of 0 would refuse every write: give a positive limit, or a negative one for none")
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

	// The server keeps a reply cache for clients that retry (rpc.WithRetry),
	// so that a resent call runs at most once; its bounds, and those on
	// connections and calls, are rpc's defaults. Refusals (kv.ErrNoKey,
	// conflicts, limits) travel in kv's replies: no rpc.WithErrors needed.
	store := kv.NewStore()
	srv := rpc.NewServer()
	defer srv.Close()
	if err := kv.Register(srv, store, kv.WithLimits(cfg.limits)); err != nil {
		_ = l.Close()
		return err // a bug in kv
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when srv is shut down or l fails
	fmt.Fprintf(stdout, "kvserver: listening on %s\n", l.Addr())

	base := cli.Status{Program: "kvserver", Addr: l.Addr().String(), TLS: tlsCfg != nil, Start: time.Now(), Peers: cfg.cluster.Cluster.Peers}
	var hs *cli.HTTPServer
	if cfg.httpAddr != "" {
		snapshot := func() any {
			return status{Status: base.Up(time.Now()), Conns: l.Open(), Accepted: l.Accepted(), RPC: rpcStatusOf(srv.Stats()), Store: storeStatusOf(store)}
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
	Conns    int64       `json:"conns"`          // open now
	Accepted int64       `json:"conns_accepted"` // since the start
	RPC      rpcStatus   `json:"rpc"`
	Store    storeStatus `json:"store"`
}

// storeStatus is the store's kv.Usage and kv.Stats.
type storeStatus struct {
	Keys      int   `json:"keys"`
	Bytes     int64 `json:"bytes"` // of keys and values
	Gets      int64 `json:"gets"`
	Puts      int64 `json:"puts"`
	Appends   int64 `json:"appends"`
	PutIfs    int64 `json:"putifs"`
	Conflicts int64 `json:"conflicts"` // PutIfs refused for their version
	Refused   int64 `json:"refused"`   // writes refused by a -max limit
}

func storeStatusOf(s *kv.Store) storeStatus {
	u, st := s.Usage(), s.Stats()
	return storeStatus{
		Keys: u.Keys, Bytes: u.Bytes,
		Gets: st.Gets, Puts: st.Puts, Appends: st.Appends, PutIfs: st.PutIfs,
		Conflicts: st.Conflicts, Refused: st.Refused,
	}
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
