// Command kvclient calls a kvserver (package kv's service) from a shell:
//
//	kvclient -server 10.0.0.1:7080 get greeting
//	kvclient -server kv -config cluster.conf put greeting hello
//	kvclient -server kv -config cluster.conf append greeting ", world"
//	kvclient -server kv -config cluster.conf -version 2 putif greeting hi   # only if greeting is at version 2
//
// get prints "KEY version=N value=QUOTED"; the writes print "KEY
// version=N", the version they made. Calls are resent until answered, with
// at-most-once execution (rpc.WithRetry): an append whose reply is lost is
// not run twice.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("kvclient", run) }

const about = `Kvclient calls a kvserver. Commands:
  get KEY             print KEY's version and value
  put KEY VALUE       set KEY to VALUE
  append KEY VALUE    add VALUE to the end of KEY's value (at most once, however often resent)
  putif KEY VALUE     set KEY to VALUE if it is still at -version (0: if it does not exist)
get prints "KEY version=N value=QUOTED", the others "KEY version=N".
Flags come before the command.`

type config struct {
	server  string
	timeout time.Duration
	version uint64
	cmd     []string
	cluster cli.ClusterFlags
	tls     cli.TLSFlags
}

func parse(argv []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("kvclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "kvclient -server ADDR [flags] get|put|append|putif KEY [VALUE]", about)
	var c config
	fs.StringVar(&c.server, "server", "", "`address` of the kv server: host:port, or an id of the cluster file (required)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long the command may take, retries included")
	fs.Uint64Var(&c.version, "version", 0, "putif: the `version` KEY must be at (0: KEY must not exist)")
	c.cluster.Register(fs, "")
	c.tls.Register(fs)
	if ok, err := cli.Parse(fs, argv); !ok {
		return nil, err
	}
	c.cmd = fs.Args() // flags come first, so "put k -1" sets k to "-1"
	// args is how many arguments each command takes, its name included.
	args := map[string]int{"get": 2, "put": 3, "append": 3, "putif": 3}
	versionSet := false
	fs.Visit(func(f *flag.Flag) { versionSet = versionSet || f.Name == "version" })
	switch {
	case c.server == "":
		return nil, cli.Usagef(fs, "-server is required")
	case len(c.cmd) == 0:
		return nil, cli.Usagef(fs, "which command? get, put, append or putif")
	case args[c.cmd[0]] == 0:
		return nil, cli.Usagef(fs, "unknown command %q: want get, put, append or putif", c.cmd[0])
	case len(c.cmd) != args[c.cmd[0]]:
		return nil, cli.Usagef(fs, "%s takes %d arguments, got %d", c.cmd[0], args[c.cmd[0]]-1, len(c.cmd)-1)
	case versionSet && c.cmd[0] != "putif":
		return nil, cli.Usagef(fs, "-version is for putif only")
	case c.timeout <= 0:
		return nil, cli.Usagef(fs, "-timeout must be positive")
	}
	if err := c.cluster.Load(); err != nil {
		return nil, err
	}
	c.server = c.cluster.Resolve(c.server)
	return &c, nil
}

func run(ctx context.Context, argv []string, stdout, stderr io.Writer) error {
	cfg, err := parse(argv, stderr)
	if cfg == nil {
		return err
	}
	tlsCfg, err := cfg.tls.ClientConfig()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	rc, err := dial(ctx, cfg.server, tlsCfg)
	if err != nil {
		return err
	}
	defer rc.Close()
	c := kv.NewClient(rc)

	key := cfg.cmd[1]
	var (
		value   string
		version uint64
	)
	switch cfg.cmd[0] {
	case "get":
		if value, version, err = c.Get(ctx, key); err != nil {
			return fmt.Errorf("get %q: %w", key, err) // ErrNoKey does not name the key
		}
		fmt.Fprintf(stdout, "%s version=%d value=%q\n", key, version, value)
		return nil
	case "put":
		version, err = c.Put(ctx, key, cfg.cmd[2])
	case "append":
		version, err = c.Append(ctx, key, cfg.cmd[2])
	case "putif":
		version, err = c.PutIf(ctx, key, cfg.cmd[2], cfg.version)
	}
	if err != nil {
		return err // kv's errors name the operation and the key
	}
	fmt.Fprintf(stdout, "%s version=%d\n", key, version)
	return nil
}

// dial connects to the server, with at-most-once retries: a call whose
// reply does not come (a lost connection, over TCP) is resent, on a new
// connection if need be, and the server runs it once, answering copies
// from its reply cache. kv's errors travel in its replies, so no
// rpc.WithErrors is needed.
func dial(ctx context.Context, addr string, tlsCfg *tls.Config) (*rpc.Client, error) {
	opts := []rpc.DialOption{rpc.WithRetry(rpc.RetryPolicy{Interval: 200 * time.Millisecond})}
	if tlsCfg != nil {
		opts = append(opts, rpc.WithDialer(transport.NewTCPDialer(transport.WithTLS(tlsCfg))))
	}
	return rpc.Dial(ctx, addr, opts...)
}
