package mapreduce

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary is its own MapReduce program: started with helperEnv
// set, it runs Main (see TestMain), as a user's program would.

// helper starts a helper process with args; its standard error is kept.
func helper(ctx context.Context, tb testing.TB, args ...string) (*exec.Cmd, *lineWatcher) {
	tb.Helper()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	w := &lineWatcher{}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.WaitDelay = time.Second
	require.NoError(tb, cmd.Start())
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("%s %s:\n%s", args[0], strings.Join(args[1:], " "), w.String())
		}
	})
	return cmd, w
}

// lineWatcher collects a process's output, and lets a test wait for a line
// with a given prefix.
type lineWatcher struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.changed != nil {
		close(w.changed)
		w.changed = nil
	}
	return len(p), nil
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor returns the rest of the first line that starts with prefix,
// waiting for it until ctx ends.
func (w *lineWatcher) waitFor(ctx context.Context, tb testing.TB, prefix string) string {
	tb.Helper()
	for {
		w.mu.Lock()
		for line := range strings.Lines(w.buf.String()) {
			if rest, ok := strings.CutPrefix(line, prefix); ok && strings.HasSuffix(rest, "\n") {
				w.mu.Unlock()
				return strings.TrimSpace(rest)
			}
		}
		if w.changed == nil {
			w.changed = make(chan struct{})
		}
		ch := w.changed
		w.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			tb.Fatalf("no line %q before %v", prefix, ctx.Err())
		}
	}
}

func TestRunAsProcessesMatchesSequential(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 14, 4, 16<<10)
	for _, j := range testJobs {
		t.Run(j.name, func(t *testing.T) {
			t.Parallel()
			want := oracle(t, withSplit(j.make(inputs, "", 3), 6000))
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			out := t.TempDir()
			// The coordinator waits for all three workers before it hands
			// out a task: otherwise the first to arrive could do the whole
			// job before the others start, and they would find no one.
			args := append([]string{"coordinator", "-listen", "127.0.0.1:0", "-workers", "3", "-job", j.name,
				"-nreduce", "3", "-split", "6000", "-out", out, "-timeout", "5s"}, inputs...)
			coord, coordOut := helper(ctx, t, args...)
			addr := coordOut.waitFor(ctx, t, "coordinator listening on ")
			var workers []*exec.Cmd
			for range 3 {
				w, _ := helper(ctx, t, "worker", "-coordinator", addr, "-listen", "127.0.0.1:0", "-timeout", "5s")
				workers = append(workers, w)
			}
			require.NoError(t, coord.Wait(), "the coordinator exits cleanly")
			for _, w := range workers {
				require.NoError(t, w.Wait(), "a worker exits cleanly when the job ends")
			}
			assert.Contains(t, coordOut.String(), "job done: 3 output files")
			var outputs []string
			for r := range 3 {
				outputs = append(outputs, OutputFile(out, r))
			}
			require.Equal(t, want, readOutputs(t, outputs))
		})
	}
}

func TestProcessWorkersExitWhenTheCoordinatorIsKilled(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 15, 3, 8<<10)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Two dozen map tasks, none started before both workers are there,
	// each a second late (see below): the job lasts over ten seconds after
	// the workers register, and the coordinator is killed right then.
	coord, coordOut := helper(ctx, t, append([]string{"coordinator", "-listen", "127.0.0.1:0", "-v", "-workers", "2",
		"-job", "wordcount", "-split", "1000", "-out", t.TempDir(), "-timeout", "2s"}, inputs...)...)
	addr := coordOut.waitFor(ctx, t, "coordinator listening on ")
	var workers []*exec.Cmd
	var outs []*lineWatcher
	for range 2 {
		// Every attempt dawdles (less than the timeout), so the job is
		// still running when its coordinator dies.
		w, out := helper(ctx, t, "worker", "-coordinator", addr, "-listen", "127.0.0.1:0", "-timeout", "2s", "-v",
			"-slow", "1", "-slow-delay", "1s")
		workers, outs = append(workers, w), append(outs, out)
	}
	for _, out := range outs {
		out.waitFor(ctx, t, "time=") // the worker has logged: it is registered
	}
	require.NoError(t, coord.Process.Kill())
	_ = coord.Wait()
	for i, w := range workers {
		err := w.Wait()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, "worker %d must exit with an error, not hang or succeed", i)
		assert.Contains(t, outs[i].String(), "coordinator lost")
	}
}
