// Command kvclient calls a kvserver from a shell:
//
//	kvclient -server 10.0.0.2:7080 get hits
//	kvclient -server kv -config cluster.conf add hits 1
//	kvclient -server kv -config cluster.conf put color 7 3     # only if color is at version 3
//	kvclient -server kv -config cluster.conf -n 100 incr hits   # read, then compare-and-set, 100 times
//
// Each command prints the entry it leaves: "KEY value=V version=N". Calls
// are resent until answered, with at-most-once execution (rpc.WithRetry):
// an add whose reply is lost is not run twice.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/cmd/internal/kvstore"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("kvclient", run) }

const about = `Kvclient calls a kvserver. Commands:
  get KEY                  print KEY's value and version
  add KEY DELTA            add DELTA to KEY's value
  put KEY VALUE VERSION    set KEY to VALUE if it is still at VERSION (0: never written)
  incr KEY                 add 1 by read and compare-and-set, -n times
Each prints "KEY value=V version=N". Flags come before the command.`

type config struct {
	server  string
	timeout time.Duration
	n       int
	cmd     []string
	cluster cli.ClusterFlags
	tls     cli.TLSFlags
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("kvclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "kvclient -server ADDR [flags] get|add|put|incr KEY [ARGS]", about)
	var c config
	fs.StringVar(&c.server, "server", "", "the kv server: host:port, or an id of the cluster file (required)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "how long the command may take, retries included")
	fs.IntVar(&c.n, "n", 1, "incr: how many increments")
	c.cluster.Register(fs, "")
	c.tls.Register(fs)
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	c.cmd = fs.Args() // flags come first, so "add hits -1" adds -1
	want := map[string]int{"get": 2, "add": 3, "put": 4, "incr": 2}
	switch {
	case c.server == "":
		return nil, cli.Usagef(fs, "-server is required")
	case len(c.cmd) == 0:
		return nil, cli.Usagef(fs, "which command? get, add, put or incr")
	case want[c.cmd[0]] == 0:
		return nil, cli.Usagef(fs, "unknown command %q: want get, add, put or incr", c.cmd[0])
	case len(c.cmd) != want[c.cmd[0]]:
		return nil, cli.Usagef(fs, "%s takes %d arguments, got %d", c.cmd[0], want[c.cmd[0]]-1, len(c.cmd)-1)
	case c.timeout <= 0 || c.n < 1:
		return nil, cli.Usagef(fs, "-timeout and -n must be positive")
	}
	if err := c.cluster.Load(); err != nil {
		return nil, err
	}
	c.server = c.cluster.Resolve(c.server)
	return &c, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse(args, stderr)
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
	c := kvstore.NewClient(rc)

	key, nums := cfg.cmd[1], cfg.cmd[2:]
	vals := make([]int, len(nums))
	for i, s := range nums {
		if vals[i], err = strconv.Atoi(s); err != nil {
			return fmt.Errorf("%s: %q is not a number", cfg.cmd[0], s)
		}
	}
	var e kvstore.Entry
	switch cfg.cmd[0] {
	case "get":
		e, err = c.Get(ctx, key)
	case "add":
		e, err = c.Add(ctx, key, vals[0])
	case "put":
		e, err = c.Put(ctx, key, vals[0], vals[1])
	case "incr":
		refused := 0
		for range cfg.n {
			var r int
			if e, r, err = c.Increment(ctx, key); err != nil {
				break
			}
			refused += r
		}
		if refused > 0 {
			fmt.Fprintf(stderr, "kvclient: %d puts refused by a concurrent writer, and retried\n", refused)
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s value=%d version=%d\n", key, e.Value, e.Version)
	return nil
}

// dial connects to the server, with at-most-once retries: calls are
// resent until answered, and the server runs each once.
func dial(ctx context.Context, addr string, tlsCfg *tls.Config) (*rpc.Client, error) {
	retry := rpc.WithRetry(rpc.RetryPolicy{Interval: 200 * time.Millisecond})
	errs := rpc.WithErrors(kvstore.Errors...)
	if tlsCfg == nil {
		return rpc.Dial(ctx, addr, retry, errs)
	}
	return rpc.Dial(ctx, addr, retry, errs, rpc.WithDialer(transport.NewTCPDialer(transport.WithTLS(tlsCfg))))
}
