package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/mapreduce"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// liveTimeout is how long a silent worker has before the coordinator of
// the live demo declares it lost, unless -timeout says: short, so that a
// class does not wait long for a crash to be noticed.
const liveTimeout = time.Second

// live runs the word count for a lecture, under the dashboard of
// -dashboard: every round runs the whole job again with mapreduce.Run on
// the simulated network the page shows, until Ctrl-C, while the
// instructor crashes workers, cuts links and makes them lossy. A crashed
// worker's tasks, and the map output on its disk, are made again by the
// others; each round ends by comparing the output with RunSequential's,
// byte for byte.
func live(ctx context.Context, cfg config, fs *flag.FlagSet, stdout io.Writer) error {
	timeoutSet := false
	fs.Visit(func(f *flag.Flag) { timeoutSet = timeoutSet || f.Name == "timeout" })
	if !timeoutSet {
		cfg.timeout = liveTimeout
	}
	scratch, err := os.MkdirTemp("", "wordcount-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	job, err := prepareJob(ctx, cfg, scratch, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Counting them once with mapreduce.RunSequential, to check every job's output against it.")
	oracle := job
	oracle.OutputDir = filepath.Join(scratch, "sequential")
	want, err := mapreduce.RunSequential(ctx, oracle)
	if err != nil {
		return err
	}

	net := netsim.NewNetwork(cfg.seed)
	defer net.Close()
	nodes := []string{"coordinator"}
	for i := range cfg.workers {
		nodes = append(nodes, fmt.Sprintf("worker-%d", i+1))
	}
	dash, err := demo.StartDashboard(fs, net, stdout, dashboard.WithTitle("wordcount: MapReduce, live"), dashboard.WithNodes(nodes...))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	fmt.Fprintf(out, "Each round the coordinator runs the whole job again with %s (mapreduce.Run). Crash workers on the page:\n", plural(cfg.workers, "worker"))
	fmt.Fprintf(out, "silent for %v, a worker is declared lost, and its tasks, and the map output on its disk, are made again\n", cfg.timeout)
	fmt.Fprintln(out, "by the others; a new worker process starts in its place on a new node. The output stays exact.")

	exact, failed := 0, 0
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Job %d:\n", r)
		job.OutputDir = filepath.Join(scratch, fmt.Sprintf("output-%d", r))
		defer os.RemoveAll(job.OutputDir)
		workersDir := filepath.Join(scratch, fmt.Sprintf("workers-%d", r))
		defer os.RemoveAll(workersDir)
		if err := os.Mkdir(workersDir, 0o755); err != nil {
			return err
		}
		d := newDisplay(out, demo.NewTracer("", ""))
		start := time.Now()
		res, err := mapreduce.Run(ctx, job,
			mapreduce.WithNetwork(&liveNetwork{net: net, names: map[string]string{}}),
			mapreduce.WithWorkers(cfg.workers),
			mapreduce.WithTimeout(cfg.timeout),
			mapreduce.WithBackupTasks(cfg.backups),
			mapreduce.WithProgress(d.update),
			mapreduce.WithScratchDir(workersDir),
			mapreduce.WithCoordinator(d.setCoordinator))
		d.finish()
		if ctx.Err() != nil {
			return nil // Ctrl-C
		}
		switch {
		case err != nil && !dash.Up("coordinator"):
			failed++
			fmt.Fprintln(out, "   The job FAILED: the coordinator's node is down. MapReduce survives its workers, not its coordinator.")
		case err != nil:
			failed++
			fmt.Fprintf(out, "   The job FAILED: %v.\n", err)
		default:
			n := res.Counters
			same := sameOutputs(res, want)
			if same {
				exact++
			}
			fmt.Fprintf(out, "   Done in %s: %d attempts for %d tasks, %d re-executed, %d lost workers. The output %s.\n",
				time.Since(start).Round(time.Millisecond), n[mapreduce.CounterAttempts],
				n[mapreduce.CounterMapTasks]+n[mapreduce.CounterReduceTasks], n[mapreduce.CounterReexecutions],
				n[mapreduce.CounterLostWorkers], exactness(same))
		}
		fmt.Fprintf(out, "   Jobs so far: %d exact, %d failed.\n", exact, failed)
		return nil
	}
	return dash.Live(ctx, demo.RoundGap, round, nil)
}

// exactness says whether the output matched the sequential run's.
func exactness(same bool) string {
	if same {
		return "is exact: the same files as RunSequential's, byte for byte"
	}
	return "DIFFERS from RunSequential's"
}

// sameOutputs reports whether got's output files hold what want's do.
func sameOutputs(got, want mapreduce.Result) bool {
	if len(got.Outputs) != len(want.Outputs) {
		return false
	}
	for r := range want.Outputs {
		a, errA := os.ReadFile(got.Outputs[r])
		b, errB := os.ReadFile(want.Outputs[r])
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			return false
		}
	}
	return true
}

// liveNetwork is the live demo's mapreduce.Network: the simulated network
// the page shows, where a worker whose node the page has crashed starts
// again on a fresh node ("worker-2" goes on as "worker-2.2", then
// "worker-2.3"), as a new process on another machine would. mapreduce.Run
// names a new generation of a worker that died itself; liveNetwork moves
// on from names the page has crashed, in this job or an earlier one.
type liveNetwork struct {
	net   *netsim.Network
	mu    sync.Mutex        // protects names
	names map[string]string // node asked for -> node listening
}

// Listen listens on node, or on its next free generation if node is
// crashed or taken.
func (n *liveNetwork) Listen(node string) (transport.Listener, error) {
	name := node
	for gen := 2; ; gen++ {
		l, err := n.net.Listen(name)
		switch {
		case err == nil:
			n.mu.Lock()
			n.names[node] = name
			n.mu.Unlock()
			return l, nil
		case !strings.HasPrefix(node, "worker-") || gen > 100:
			return nil, err
		case errors.Is(err, netsim.ErrCrashed) || errors.Is(err, netsim.ErrAddrInUse):
			name = nextGeneration(node, gen)
		default:
			return nil, err
		}
	}
}

// nextGeneration returns node's name in its generation gen: "worker-2" in
// generation 3 is "worker-2.3", and so is "worker-2.2".
func nextGeneration(node string, gen int) string {
	base, _, _ := strings.Cut(node, ".")
	return fmt.Sprintf("%s.%d", base, gen)
}

// Dialer returns a dialer for conns from node, from the node it listens
// on.
func (n *liveNetwork) Dialer(from string) transport.Dialer {
	n.mu.Lock()
	defer n.mu.Unlock()
	if name, ok := n.names[from]; ok {
		from = name
	}
	return n.net.Dialer(from)
}
