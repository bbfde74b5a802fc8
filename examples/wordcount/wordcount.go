package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/mapreduce"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// maxTraceEvents bounds the -trace diagram: the job makes thousands of rpc
// calls (heartbeats, tasks, fetches), and a diagram of the first ones
// shows the protocol without making the browser crawl.
const maxTraceEvents = 3000

// outcome is what the run showed, for the tests.
type outcome struct {
	res     mapreduce.Result
	crashes int // workers the fault hook killed
}

// wordcount is the demo: find the files, pack them into inputs, run the
// job with mapreduce.Run on a simulated network, and show what it found
// and what it took.
func wordcount(ctx context.Context, cfg config, out io.Writer) (outcome, error) {
	var o outcome
	tr := demo.NewTracer(cfg.traceDir, "wordcount", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return o, err
	}
	page, err := serveStatus(cfg.httpAddr)
	if err != nil {
		return o, err
	}
	defer page.close()

	scratch, err := os.MkdirTemp("", "wordcount-*")
	if err != nil {
		return o, err
	}
	defer os.RemoveAll(scratch)
	job, err := prepareJob(ctx, cfg, scratch, out)
	if err != nil {
		return o, err
	}
	workersDir := filepath.Join(scratch, "workers")
	if err := os.Mkdir(workersDir, 0o755); err != nil {
		return o, err
	}

	net := netsim.NewNetwork(cfg.seed, tr.NetsimOptions()...)
	defer net.Close()
	fmt.Fprintf(out, "%s, goroutines of this process, ask a coordinator for tasks over rpc on a simulated network\n",
		plural(cfg.workers, "worker"))
	fmt.Fprintf(out, "(package netsim; mapreduce.Run); %s.\n", plural(cfg.nReduce, "reduce task"))
	if s := describeFaults(cfg); s != "" {
		fmt.Fprintln(out, s)
	}
	if page != nil {
		fmt.Fprintf(out, "The coordinator's status page is at http://%s/\n", page.addr)
	}

	d := newDisplay(out, tr)
	start := time.Now()
	o.res, err = mapreduce.Run(ctx, job,
		mapreduce.WithNetwork(tracedNetwork{net, tr}),
		mapreduce.WithWorkers(cfg.workers),
		mapreduce.WithTimeout(cfg.timeout),
		mapreduce.WithBackupTasks(cfg.backups),
		mapreduce.WithFaults(faultHook(cfg, d)),
		mapreduce.WithProgress(d.update),
		mapreduce.WithScratchDir(workersDir),
		mapreduce.WithCoordinator(func(c *mapreduce.Coordinator) {
			d.setCoordinator(c)
			page.set(c)
		}))
	took := time.Since(start)
	d.finish()
	o.crashes = d.crashCount()
	if err != nil {
		if ctx.Err() != nil {
			return o, errors.New("interrupted")
		}
		return o, err
	}
	fmt.Fprintf(out, "Done in %s.\n\n", took.Round(time.Millisecond))
	if err := report(out, o.res, cfg, o.crashes); err != nil {
		return o, err
	}
	if cfg.outDir != "" {
		fmt.Fprintf(out, "\nThe output is in %s: part-00000 to part-%05d, one \"word<TAB>count\" line per word.\n", cfg.outDir, cfg.nReduce-1)
	} else {
		fmt.Fprintf(out, "\nThe output was in %s, removed now: keep it with -out DIR.\n", job.OutputDir)
	}
	if cfg.check {
		took, err := checkOutputs(ctx, job, o.res, filepath.Join(scratch, "check"))
		if err != nil {
			return o, err
		}
		fmt.Fprintf(out, "Check: mapreduce.RunSequential, on one goroutine, wrote the same %d files, byte for byte (in %s).\n",
			len(o.res.Outputs), took.Round(time.Millisecond))
	}
	if err := writeTrace(tr, out); err != nil {
		return o, err
	}
	if page != nil {
		fmt.Fprintf(out, "\nThe status page stays up at http://%s/ until Ctrl-C.\n", page.addr)
		<-ctx.Done()
	}
	return o, nil
}

// prepareJob finds the files to count, packs them into input files under
// scratch, and returns the job.
func prepareJob(ctx context.Context, cfg config, scratch string, out io.Writer) (mapreduce.Job, error) {
	files, what, err := corpus(ctx, cfg.files)
	if err != nil {
		return mapreduce.Job{}, err
	}
	total := size(0)
	for _, f := range files {
		total += size(f.size)
	}
	fmt.Fprintf(out, "Counting the words in %s: %s, %s.\n", what, plural(len(files), "file"), &total)
	start := time.Now()
	inputs, err := pack(files, int64(cfg.split), filepath.Join(scratch, "inputs"))
	if err != nil {
		return mapreduce.Job{}, err
	}
	fmt.Fprintf(out, "Packed them into %s (in %s); mapreduce cuts these into map tasks of at most %s.\n",
		plural(len(inputs), "input file"), time.Since(start).Round(time.Millisecond), &cfg.split)
	outDir := cfg.outDir
	if outDir == "" {
		outDir = filepath.Join(scratch, "output")
	}
	return wordCountJob(inputs, cfg.nReduce, int64(cfg.split), outDir), nil
}

// report prints the top words and what the job took: tasks, attempts,
// and the work done again because workers died or lagged.
func report(out io.Writer, res mapreduce.Result, cfg config, crashes int) error {
	top, words, distinct, err := topWords(res.Outputs, cfg.top)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "The %d most frequent of %d words (%d distinct):\n", len(top), words, distinct)
	for i, w := range top {
		fmt.Fprintf(out, "  %3d  %-16s %10d\n", i+1, w.word, w.count)
	}
	n := res.Counters
	tasks := n[mapreduce.CounterMapTasks] + n[mapreduce.CounterReduceTasks]
	fmt.Fprintf(out, "\n%-14s %d map + %d reduce\n", "tasks", n[mapreduce.CounterMapTasks], n[mapreduce.CounterReduceTasks])
	fmt.Fprintf(out, "%-14s %d\n", "attempts", n[mapreduce.CounterAttempts])
	fmt.Fprintf(out, "%-14s %d   (attempts that ran because an earlier one died, stalled, or lost its output)\n",
		"re-executed", n[mapreduce.CounterReexecutions])
	fmt.Fprintf(out, "%-14s %d   (copies of the last slow tasks, run near the end of a phase)\n",
		"backup tasks", n[mapreduce.CounterBackupTasks])
	fmt.Fprintf(out, "%-14s %d   (silent for the timeout, or unreachable by a reducer)\n",
		"lost workers", n[mapreduce.CounterLostWorkers])
	switch {
	case cfg.crash > 0 && crashes == 0:
		fmt.Fprintf(out, "\nNo worker died: each first attempt dies with probability %.0f%%, and seed %d spared all %d of them.\n",
			100*cfg.crash, cfg.seed, tasks)
		fmt.Fprintln(out, "Try another -seed.")
	case crashes > 0:
		fmt.Fprintf(out, "\n%s died, and the counts are those of a run where none did: the coordinator ran their\n",
			capital(plural(crashes, "worker")))
		fmt.Fprintln(out, "tasks again, and their lost map output with them. (-check compares with a sequential run.)")
	case cfg.slow > 0 && n[mapreduce.CounterBackupTasks] == 0 && cfg.backups:
		fmt.Fprintf(out, "\nNo backup copy ran: map task 0 was %s late, which was not long enough, next to the other tasks,\n", cfg.slow)
		fmt.Fprintln(out, "to make it a straggler (twice the average task). Try a longer -slow.")
	}
	return nil
}

// writeTrace writes the diagram, if -trace asked for it, and says how much
// of the run it shows.
func writeTrace(tr *demo.Tracer, out io.Writer) error {
	if err := tr.Write(out); err != nil {
		return err
	}
	if rec := tr.Recorder(); rec != nil && rec.Omitted() > 0 {
		fmt.Fprintf(out, "It shows the first %d events of the run; %d later ones are left out.\n", len(rec.Events()), rec.Omitted())
	} else if rec != nil {
		fmt.Fprintf(out, "It shows all %d events of the run (a run of more than %d shows its first %d).\n",
			len(rec.Events()), maxTraceEvents, maxTraceEvents)
	}
	return nil
}

// tracedNetwork is the simulated network, with every conn traced as its
// node for -trace (a no-op without it). It is a mapreduce.Network.
type tracedNetwork struct {
	net *netsim.Network
	tr  *demo.Tracer
}

// Listen listens on node.
func (n tracedNetwork) Listen(node string) (transport.Listener, error) {
	l, err := n.net.Listen(node)
	if err != nil {
		return nil, err
	}
	return n.tr.WrapListener(node, l), nil
}

// Dialer returns a dialer for conns from node from.
func (n tracedNetwork) Dialer(from string) transport.Dialer {
	d := n.net.Dialer(from)
	return transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
		c, err := d.Dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		return n.tr.WrapConn(from, c), nil
	})
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// capital returns s with its first letter in upper case.
func capital(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
