package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/distsys-kit/distsys/examples/internal/demo"
	"github.com/distsys-kit/distsys/mapreduce"
	"github.com/distsys-kit/distsys/trace"
)

// maxTraceEvents bounds the -trace diagram: the job makes thousands of rpc
// calls (heartbeats, tasks, fetches), and a diagram of the first ones
// shows the protocol without making the browser crawl.
const maxTraceEvents = 3000

// wordcount is the demo: find the files, pack them into inputs, run the
// job on a cluster, and show what it found and what it took.
func wordcount(ctx context.Context, cfg config, out io.Writer) error {
	tr := demo.NewTracer(cfg.traceDir, "wordcount", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	files, what, err := corpus(ctx, cfg.files)
	if err != nil {
		return err
	}
	total := size(0)
	for _, f := range files {
		total += size(f.size)
	}
	fmt.Fprintf(out, "Counting the words in %s: %d files, %s.\n", what, len(files), &total)

	scratch, err := os.MkdirTemp("", "wordcount-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	start := time.Now()
	inputs, err := pack(files, int64(cfg.split), filepath.Join(scratch, "inputs"))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Packed them into %d input files (in %s); mapreduce cuts these into map tasks of at most %s.\n",
		len(inputs), time.Since(start).Round(time.Millisecond), &cfg.split)

	outDir := cfg.outDir
	if outDir == "" {
		outDir = filepath.Join(scratch, "output")
	}
	job := wordCountJob(inputs, cfg.nReduce, int64(cfg.split), outDir)
	cl, err := newCluster(cfg, tr)
	if err != nil {
		return err
	}
	how := "goroutines of this process"
	if cfg.mode == "processes" {
		how = fmt.Sprintf("processes of this program (%s worker -coordinator %s)", filepath.Base(os.Args[0]), cl.addr())
	}
	fmt.Fprintf(out, "The coordinator listens on %s; %d workers, %s, ask it for tasks over rpc. %d reduce tasks.\n",
		cl.addr(), cfg.workers, how, cfg.nReduce)
	if s := describeFaults(cfg); s != "" {
		fmt.Fprintln(out, s)
	}

	d := newDisplay(out, tr)
	res, err := cl.run(ctx, job, d.update)
	d.finish()
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return err
	}
	fmt.Fprintf(out, "Done in %s.\n\n", cl.took.Round(time.Millisecond))
	if err := report(out, res, cfg, cl.lives.Load()); err != nil {
		return err
	}
	if cfg.outDir != "" {
		fmt.Fprintf(out, "\nThe output is in %s: part-00000 to part-%05d, one \"word<TAB>count\" line per word.\n", cfg.outDir, cfg.nReduce-1)
	} else {
		fmt.Fprintf(out, "\nThe output was in %s, removed now: keep it with -out DIR.\n", outDir)
	}

	if cfg.check {
		took, err := checkOutputs(ctx, job, res, filepath.Join(scratch, "check"))
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Check: mapreduce.RunSequential, on one goroutine, wrote the same %d files, byte for byte (in %s).\n",
			len(res.Outputs), took.Round(time.Millisecond))
	}
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

// report prints the top words and what the job took: tasks, attempts,
// and the work done again because workers died or lagged.
func report(out io.Writer, res mapreduce.Result, cfg config, lives int64) error {
	top, words, distinct, err := topWords(res.Outputs, cfg.top)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "The %d most frequent of %d words (%d distinct):\n", len(top), words, distinct)
	for i, w := range top {
		fmt.Fprintf(out, "  %3d  %-16s %10d\n", i+1, w.word, w.count)
	}
	n := res.Counters
	fmt.Fprintf(out, "\n%-14s %d map + %d reduce\n", "tasks", n[mapreduce.CounterMapTasks], n[mapreduce.CounterReduceTasks])
	fmt.Fprintf(out, "%-14s %d\n", "attempts", n[mapreduce.CounterAttempts])
	fmt.Fprintf(out, "%-14s %d   (attempts that ran because an earlier one died, stalled, or lost its output)\n",
		"re-executed", n[mapreduce.CounterReexecutions])
	fmt.Fprintf(out, "%-14s %d   (copies of the last slow tasks, run near the end of a phase)\n",
		"backup tasks", n[mapreduce.CounterBackupTasks])
	fmt.Fprintf(out, "%-14s %d   (silent for the timeout, or unreachable by a reducer; %d workers started in all, replacements for dead ones included)\n",
		"lost workers", n[mapreduce.CounterLostWorkers], lives)
	return nil
}
