// Command lockclient takes a lock from a lockserver, holds it, and
// releases it: the lock service from a shell, for trying it out across
// machines and for scripts. With -raft it takes it from the replicas of a
// lockraftserver cluster (lock.RaftServer) through a lock.ClusterCaller,
// which follows the leader.
//
//	lockclient -server 10.0.0.1:7070 -lock report           # hold until Ctrl-C
//	lockclient -server lock -config cluster.conf -lock report -hold 5s -n 3
//	lockclient -raft -config cluster.conf -lock report      # the replicas lock1, lock2, ...
//
// It prints one line per event on stdout, "EVENT lock=NAME client=NAME
// at=TIME key=value ...":
// granted (with the fencing token and how long the client waited), work
// (with -work: one unit of work done under the lease, the token it
// carries), lost (the lease ended before the client let go: expired, or
// the server restarted), released, and retry (the session ended while the
// client waited; it asks again). Times are RFC 3339 with nanoseconds, so
// the lines of clients on one machine can be merged into one history.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

func main() { cli.Main("lockclient", run) }

const about = `Lockclient takes the lock -lock from the lock server -server (with -raft,
from the replicas of lockraftserver), holds it for -hold (until interrupted if
0), releases it, and does so -n times. It prints a line per event: granted,
work, lost, released, retry.`

type config struct {
	server      string
	servers     []string // -raft: the replicas' addresses
	raft        bool
	lock        string
	name        string
	hold        time.Duration
	n           int
	try         bool
	work        time.Duration
	callTimeout time.Duration
	cluster     cli.ClusterFlags
	tls         cli.TLSFlags
}

func parse(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("lockclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "lockclient -server ADDR -lock NAME [flags]", about)
	var c config
	fs.StringVar(&c.server, "server", "", "the lock server: host:port, or an id of the cluster file (required); with -raft, a comma-separated list of replicas")
	fs.BoolVar(&c.raft, "raft", false, "use the replicated service of lockraftserver: the replicas of -server, or else the cluster file's entries lock1, lock2, ...")
	fs.StringVar(&c.lock, "lock", "", "`name` of the lock (required)")
	fs.StringVar(&c.name, "name", "", "this client's `name` in the server's status (default: HOST/PID)")
	fs.DurationVar(&c.hold, "hold", 0, "how long to hold the lock each time (0: until interrupted)")
	fs.IntVar(&c.n, "n", 1, "how many times to take the lock (0: for ever)")
	fs.BoolVar(&c.try, "try", false, "do not wait: if the lock is held, say so and exit with status 1")
	fs.DurationVar(&c.work, "work", 0, "while holding, print a work line with the token every `interval` (0: none)")
	fs.DurationVar(&c.callTimeout, "call-timeout", lock.DefaultCallTimeout, "how long to wait for a reply before resending a request")
	c.cluster.Register(fs, "")
	c.tls.Register(fs)
	if ok, err := cli.Parse(fs, args); !ok {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, cli.Usagef(fs, "lockclient takes no arguments, only flags (got %q)", fs.Arg(0))
	case c.server == "" && !(c.raft && c.cluster.File != ""):
		return nil, cli.Usagef(fs, "-server is required (or, with -raft, -config)")
	case strings.Contains(c.server, ",") && !c.raft:
		return nil, cli.Usagef(fs, "a list of servers is for -raft: the replicas of lockraftserver")
	case c.lock == "":
		return nil, cli.Usagef(fs, "-lock is required")
	case c.hold < 0 || c.work < 0 || c.n < 0:
		return nil, cli.Usagef(fs, "-hold, -work and -n must not be negative")
	case c.hold == 0 && c.n != 1:
		return nil, cli.Usagef(fs, "-hold 0 holds until interrupted, so -n must be 1")
	}
	if err := c.cluster.Load(); err != nil {
		return nil, err
	}
	if err := c.findServers(); err != nil {
		return nil, err
	}
	if c.name == "" {
		host, _ := os.Hostname()
		c.name = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	return &c, nil
}

// findServers resolves -server: one server's address, or with -raft the
// replicas', from -server's list or the cluster file's entries lockN.
func (c *config) findServers() error {
	switch {
	case !c.raft:
		c.server = c.cluster.Resolve(c.server)
	case c.server == "":
		replicas, err := c.cluster.Cluster.Numbered("lock")
		if err != nil {
			return fmt.Errorf("%s: %w", c.cluster.File, err)
		}
		for _, id := range slices.Sorted(maps.Keys(replicas)) {
			c.servers = append(c.servers, replicas[id])
		}
	default:
		for _, s := range strings.Split(c.server, ",") {
			c.servers = append(c.servers, c.cluster.Resolve(strings.TrimSpace(s)))
		}
	}
	return nil
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
	rc, err := dial(ctx, cfg, tlsCfg)
	if err != nil {
		return err
	}
	defer rc.Close() // after c's Close, which releases what is held through it
	c := lock.NewClient(rc, lock.WithName(cfg.name), lock.WithCallTimeout(cfg.callTimeout))
	defer c.Close() // releases what is still held
	m := c.Mutex(cfg.lock)
	ev := events{w: stdout, lock: cfg.lock, client: cfg.name}

	for i := 0; cfg.n == 0 || i < cfg.n; i++ {
		lease, err := acquire(ctx, m, cfg.try, ev)
		if err != nil {
			return err // ctx.Err() if interrupted while waiting: nothing is held
		}
		hold(ctx, m, lease, cfg, ev)
		if ctx.Err() != nil {
			return nil // interrupted while holding: released
		}
	}
	return nil
}

// caller is what the lock client calls through: an rpc.Client of one
// server, or a lock.ClusterCaller of the replicas.
type caller interface {
	lock.Caller
	Close() error
}

// dial connects to the server, or with -raft makes a caller of the
// replicas, which connects lazily and follows the leader. Either
// reconnects by itself later.
func dial(ctx context.Context, cfg *config, tlsCfg *tls.Config) (caller, error) {
	var topts []transport.Option
	if tlsCfg != nil {
		topts = append(topts, transport.WithTLS(tlsCfg))
	}
	d := transport.NewTCPDialer(topts...)
	if cfg.raft {
		return lock.NewClusterCaller(d, cfg.servers), nil
	}
	return rpc.Dial(ctx, cfg.server, rpc.WithDialer(d))
}

// acquire takes the lock, asking again when the session ends while it
// waits (the server restarted, or could not be reached for a TTL): the
// client still wants the lock.
func acquire(ctx context.Context, m *lock.Mutex, try bool, ev events) (*lock.Lease, error) {
	start := time.Now()
	for {
		var (
			lease *lock.Lease
			err   error
		)
		if try {
			lease, err = m.TryLock(ctx)
		} else {
			lease, err = m.Lock(ctx)
		}
		switch {
		case err == nil:
			ev.print("granted", "token=%d waited=%v", lease.Token(), time.Since(start).Round(time.Millisecond))
			return lease, nil
		case errors.Is(err, lock.ErrSessionExpired) || errors.Is(err, lock.ErrLeaseExpired):
			ev.print("retry", "err=%q", err)
		default:
			return nil, err
		}
	}
}

// hold keeps the lease for cfg.hold (until ctx ends if 0), doing work
// every cfg.work, then releases it. A lease lost meanwhile ends the hold
// early; that is not an error: the next round asks again.
func hold(ctx context.Context, m *lock.Mutex, lease *lock.Lease, cfg *config, ev events) {
	var until <-chan time.Time
	if cfg.hold > 0 {
		t := time.NewTimer(cfg.hold)
		defer t.Stop()
		until = t.C
	}
	var tick <-chan time.Time
	if cfg.work > 0 {
		t := time.NewTicker(cfg.work)
		defer t.Stop()
		tick = t.C
	}
	for held := true; held; {
		select {
		case <-tick:
			// A fenced resource checks the token, not the lease: this
			// check is only the client's belief, and the line records
			// that it still believed.
			select {
			case <-lease.Done():
			default:
				ev.print("work", "token=%d", lease.Token())
			}
		case <-lease.Done():
			ev.print("lost", "token=%d err=%q", lease.Token(), lease.Err())
			_ = m.Unlock(ctx) // gives the Mutex back; reports the loss again
			return
		case <-until:
			held = false
		case <-ctx.Done():
			held = false
		}
	}
	// Release even when interrupted, with a context of its own.
	uctx, cancel := context.WithTimeout(context.Background(), cfg.releaseTimeout())
	defer cancel()
	if err := m.Unlock(uctx); err != nil {
		ev.print("lost", "token=%d err=%q", lease.Token(), err)
		return
	}
	ev.print("released", "token=%d", lease.Token())
}

// raftRelease is how long a client of the replicated service tries to
// release a lock: long enough to outlast an election (a few hundred
// milliseconds, seconds across a slow network), since a release lost
// keeps the lock from the others until the session expires and the
// lock-delay passes.
const raftRelease = 5 * time.Second

// releaseTimeout is how long the client tries to release a lock: two
// call timeouts, or with -raft long enough for an election.
func (c *config) releaseTimeout() time.Duration {
	if c.raft {
		return max(2*c.callTimeout, raftRelease)
	}
	return 2 * c.callTimeout
}

// events prints the client's event lines.
type events struct {
	w            io.Writer
	lock, client string
}

// print writes one event line, in one Write, so that the lines of
// several clients sharing a pipe never interleave.
func (e events) print(event, format string, args ...any) {
	fmt.Fprintf(e.w, "%s lock=%s client=%s at=%s %s\n", event, e.lock, e.client, time.Now().Format(time.RFC3339Nano), fmt.Sprintf(format, args...))
}
