// Command kvclient calls a kvserver (package kv's service), or with -raft
// the replicas of a kvraftserver cluster (package kvraft), from a shell:
//
//	kvclient -server 10.0.0.1:7080 get greeting
//	kvclient -server kv -config cluster.conf put greeting hello
//	kvclient -server kv -config cluster.conf append greeting ", world"
//	kvclient -server kv -config cluster.conf -version 2 putif greeting hi   # only if greeting is at version 2
//	kvclient -raft -config cluster.conf put greeting hello   # the replicas kv1, kv2, ...
//
// get prints "KEY version=N value=QUOTED"; the writes print "KEY
// version=N", the version they made. Calls are resent until answered, with
// at-most-once execution (rpc.WithRetry; with -raft, the clerk's session):
// an append whose reply is lost is not run twice. With -raft, a call goes
// to the leader, found by trying the replicas and following their hints.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/kvraft"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("kvclient", run) }

const about = `Kvclient calls a kvserver, or with -raft the replicas of kvraftserver. Commands:
  get KEY             print KEY's version and value
  put KEY VALUE       set KEY to VALUE
  append KEY VALUE    add VALUE to the end of KEY's value (at most once, however often resent)
  putif KEY VALUE     set KEY to VALUE if it is still at -version (0: if it does not exist)
get prints "KEY version=N value=QUOTED", the others "KEY version=N".
Flags come before the command.`

type config struct {
	server  string
	servers []string // -raft: the replicas' addresses
	raft    bool
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
	fs.StringVar(&c.server, "server", "", "`address` of the kv server: host:port, or an id of the cluster file (required); with -raft, a comma-separated list of replicas")
	fs.BoolVar(&c.raft, "raft", false, "call the replicated service of kvraftserver: the replicas of -server, or else the cluster file's entries kv1, kv2, ...")
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
	case c.server == "" && !(c.raft && c.cluster.File != ""):
		return nil, cli.Usagef(fs, "-server is required (or, with -raft, -config)")
	case strings.Contains(c.server, ",") && !c.raft:
		return nil, cli.Usagef(fs, "a list of servers is for -raft: the replicas of kvraftserver")
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
	if !c.raft {
		c.server = c.cluster.Resolve(c.server)
		return &c, nil
	}
	if c.server == "" {
		replicas, err := c.cluster.Cluster.Numbered("kv")
		if err != nil {
			return nil, fmt.Errorf("%s: %w", c.cluster.File, err)
		}
		for _, id := range slices.Sorted(maps.Keys(replicas)) {
			c.servers = append(c.servers, replicas[id])
		}
		return &c, nil
	}
	for _, s := range strings.Split(c.server, ",") {
		c.servers = append(c.servers, c.cluster.Resolve(strings.TrimSpace(s)))
	}
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
	var c store
	if cfg.raft {
		var topts []transport.Option
		if tlsCfg != nil {
			topts = append(topts, transport.WithTLS(tlsCfg))
		}
		clerk := kvraft.NewClerk(transport.NewTCPDialer(topts...), cfg.servers)
		defer clerk.Close()
		c = clerk
	} else {
		rc, err := dial(ctx, cfg.server, tlsCfg)
		if err != nil {
			return err
		}
		defer rc.Close()
		c = kv.NewClient(rc)
	}

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

// store is what the commands call: a kv.Client of one kvserver, or a
// kvraft.Clerk of the replicas of kvraftserver.
type store interface {
	Get(ctx context.Context, key string) (string, uint64, error)
	Put(ctx context.Context, key, value string) (uint64, error)
	Append(ctx context.Context, key, value string) (uint64, error)
	PutIf(ctx context.Context, key, value string, version uint64) (uint64, error)
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
