// Command lockserver serves the lock service of package lock over rpc on
// TCP, or TLS: named locks with leases, FIFO waiting and fencing tokens
// that survive restarts (they are reserved on disk, in -dir). Clients are
// programs that use lock.NewClient, or cmd/lockclient.
//
//	lockserver -dir /var/lib/locks -listen :7070 -http :7071
//
// It stops gracefully on SIGINT or SIGTERM: it stops accepting clients,
// lets the calls in progress finish for up to -shutdown-timeout, then
// closes. Clients find their sessions gone at the restart and open new
// ones; the restarted server grants nothing until every lease of the old
// run could have expired (see package lock).
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
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("lockserver", run) }

const about = `Lockserver serves the lock service of package lock: named locks with
leases, first-come first-served waiting, and fencing tokens that only grow,
across restarts. SIGINT or SIGTERM stops it gracefully.`

// config is what the flags say.
type config struct {
	listen    string
	dir       string
	ttl       time.Duration
	lockDelay time.Duration
	httpAddr  string
	grace     time.Duration
	cluster   cli.ClusterFlags
	tls       cli.TLSFlags
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("lockserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "lockserver -dir DIR [flags]", about)
	var c config
	fs.StringVar(&c.listen, "listen", ":7070", "`address` to serve lock clients on")
	fs.StringVar(&c.dir, "dir", "", "`directory` of the server's state file, the fencing tokens' high-water mark (required)")
	fs.DurationVar(&c.ttl, "ttl", lock.DefaultTTL, "how long a client's session, and its leases, last without a renewal")
	lockDelay := cli.LockDelayFlag(fs, "how long a lock whose holder's session expired stays ungranted")
	fs.StringVar(&c.httpAddr, "http", "", "`address` of the JSON status endpoint, GET /status (default: none)")
	fs.DurationVar(&c.grace, "shutdown-timeout", 5*time.Second, "how long a graceful shutdown waits for calls in progress")
	c.cluster.Register(fs, "lock")
	c.tls.Register(fs)
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	c.lockDelay = cli.LockDelay(*lockDelay)
	switch {
	case fs.NArg() > 0:
		return nil, cli.Usagef(fs, "lockserver takes no arguments, only flags (got %q)", fs.Arg(0))
	case c.dir == "":
		return nil, cli.Usagef(fs, "-dir is required: the server keeps its fencing-token high-water mark there")
	case c.ttl <= 0:
		return nil, cli.Usagef(fs, "-ttl must be positive")
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
	var calls callCounter
	lcfg := lock.Config{Dir: cfg.dir, TTL: cfg.ttl, LockDelay: cfg.lockDelay}
	lcfg.RPCOptions = append(lcfg.RPCOptions, rpc.WithServerInterceptor(calls.intercept))
	srv, err := lock.NewServer(lcfg)
	if err != nil {
		return err
	}
	defer srv.Close()

	var topts []transport.Option
	if tlsCfg != nil {
		topts = append(topts, transport.WithTLS(tlsCfg))
	}
	tl, err := transport.ListenTCP(cfg.listen, topts...)
	if err != nil {
		return err
	}
	l := cli.NewCountingListener(tl)
	st := statusSource{
		base:  cli.Status{Program: "lockserver", Addr: l.Addr().String(), TLS: tlsCfg != nil, Start: time.Now(), Peers: cfg.cluster.Cluster.Peers},
		srv:   srv,
		l:     l,
		calls: &calls,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when l or srv is closed
	fmt.Fprintf(stdout, "lockserver: listening on %s\n", l.Addr())

	var hs *cli.HTTPServer
	if cfg.httpAddr != "" {
		if hs, err = cli.StartHTTP(cfg.httpAddr, cli.JSONHandler(st.snapshot)); err != nil {
			_ = l.Close()
			<-served
			return err
		}
		fmt.Fprintf(stdout, "lockserver: status on http://%s/status\n", hs.Addr())
	}

	select {
	case <-ctx.Done():
	case err = <-served: // the listener failed
		served <- err
	}
	fmt.Fprintln(stdout, "lockserver: shutting down")
	return shutdown(cfg.grace, l, &calls, srv, hs, served, stderr)
}

// shutdown stops the server gracefully: no new clients, then the calls in
// progress get up to grace to finish (a waiting Acquire returns at its
// next poll), then everything closes. The lock server keeps no state in
// memory worth saving (see package lock), so what a shutdown spares is
// only the clients' retries of calls cut off.
func shutdown(grace time.Duration, l transport.Listener, calls *callCounter, srv *lock.Server, hs *cli.HTTPServer, served chan error, stderr io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = l.Close()
	serveErr := <-served
	drained := calls.drain(ctx)
	_ = srv.Close()
	var httpErr error
	if hs != nil {
		httpErr = hs.Shutdown(ctx)
	}
	if serveErr != nil && !errors.Is(serveErr, transport.ErrClosed) && !errors.Is(serveErr, lock.ErrClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if drained != nil || httpErr != nil {
		fmt.Fprintf(stderr, "lockserver: requests still running after %v were cut off\n", grace)
	}
	return nil
}
