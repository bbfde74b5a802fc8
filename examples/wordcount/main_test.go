package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/mapreduce"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// corpus is a generated set of files and the counts of the words written
// into them, counted as they were written: the oracle.
type testCorpus struct {
	files []string
	want  map[string]int64
}

// writeCorpus writes n files of a few hundred words each, drawn from a
// small vocabulary with a skewed distribution, separated by spaces,
// punctuation and numbers (which are not words). No file ends with a
// newline, so packing must add one between files.
func writeCorpus(tb testing.TB, n int) testCorpus {
	tb.Helper()
	vocab := []string{"the", "map", "reduce", "worker", "Go", "fetch_output", "x2", "héllo", "of", "task", "coordinator", "rpc"}
	seps := []string{" ", ", ", ".\n", " 42 ", " 0x1f\n", "\t(", ") "}
	rng := rand.New(rand.NewPCG(1, 2))
	c := testCorpus{want: map[string]int64{}}
	dir := tb.TempDir()
	for i := range n {
		var sb strings.Builder
		for j := range 150 + rng.IntN(150) {
			if j > 0 {
				sb.WriteString(seps[rng.IntN(len(seps))])
			}
			w := vocab[min(int(rng.ExpFloat64()*3), len(vocab)-1)]
			sb.WriteString(w)
			c.want[w]++
		}
		name := filepath.Join(dir, fmt.Sprintf("file%02d.txt", i))
		require.NoError(tb, os.WriteFile(name, []byte(sb.String()), 0o644))
		c.files = append(c.files, name)
	}
	return c
}

// top returns the n most frequent words of the oracle, as the program
// prints them: "word count", most frequent first, ties in word order.
func (c testCorpus) top(n int) []string {
	words := make([]string, 0, len(c.want))
	for w := range c.want {
		words = append(words, w)
	}
	slices.SortFunc(words, func(a, b string) int { return cmp.Or(cmp.Compare(c.want[b], c.want[a]), strings.Compare(a, b)) })
	var lines []string
	for _, w := range words[:min(n, len(words))] {
		lines = append(lines, fmt.Sprintf("%s %d", w, c.want[w]))
	}
	return lines
}

var topLine = regexp.MustCompile(`(?m)^ +\d+  (\S+) +(\d+)$`)

// printedTop returns the top words the program printed, as "word count".
func printedTop(out string) []string {
	var lines []string
	for _, m := range topLine.FindAllStringSubmatch(out, -1) {
		lines = append(lines, m[1]+" "+m[2])
	}
	return lines
}

// small are the flags that make a small corpus several tasks.
var small = []string{"-split", "4KiB", "-workers", "3", "-reduce", "3", "-top", "6", "-timeout", "1s"}

// runSim runs the demo with args in a synctest bubble, where the workers'
// heartbeats, timeouts and straggler pass in virtual time, and returns
// what it showed and printed.
func runSim(t *testing.T, args ...string) (outcome, string) {
	t.Helper()
	var errb, out bytes.Buffer
	cfg, ok, err := parse(args, &errb)
	require.True(t, ok, "%v: %s", err, errb.String())
	var o outcome
	synctest.Test(t, func(t *testing.T) {
		o, err = wordcount(context.Background(), cfg, &out)
		require.NoError(t, err, out.String())
	})
	return o, out.String()
}

// runWC runs the program with args on the real clock.
func runWC(tb testing.TB, args ...string) (stdout string, err error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	err = run(ctx, args, &out, &errb)
	return out.String(), err
}

func TestCountsMatchTheCorpus(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 30)
	o, out := runSim(t, append(append(small, "-check"), c.files...)...)
	assert.Equal(t, c.top(6), printedTop(out))
	assert.Contains(t, out, "wrote the same 3 files, byte for byte")
	assert.Greater(t, o.res.Counters[mapreduce.CounterMapTasks], int64(5), "the corpus is cut into several map tasks")
	assert.Zero(t, o.res.Counters[mapreduce.CounterReexecutions])
	assert.Zero(t, o.crashes)
	assert.NotContains(t, out, "\r", "no progress bar when stdout is not a terminal")
}

// With workers dying in 20% of first attempts, the top words stay the same,
// some tasks run again, and every death is told as it happens.
func TestCrashesAreToldAsTheyHappen(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 30)
	o, out := runSim(t, append(append(small, "-crash", "0.2", "-seed", "24", "-check"), c.files...)...)
	require.Positive(t, o.crashes, "seed 24 kills workers\n%s", out)
	assert.Equal(t, o.crashes, strings.Count(out, " dies during "), "one line per death")
	assert.Regexp(t, `worker-\d+(\.\d+)? dies during (map|reduce) \d+`, out, "the line names the worker and the task")
	assert.Equal(t, c.top(6), printedTop(out))
	assert.Contains(t, out, "byte for byte")
	assert.Positive(t, o.res.Counters[mapreduce.CounterReexecutions], out)
}

func TestNoCrashIsSaid(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 10)
	o, out := runSim(t, append(append(small, "-crash", "0.0001"), c.files...)...)
	assert.Zero(t, o.crashes)
	assert.Contains(t, out, "No worker died", "a run that was asked for crashes and had none says so")
}

func TestAStragglerGetsABackupCopy(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 30)
	o, out := runSim(t, append(append(small, "-slow", "3s"), c.files...)...)
	assert.Positive(t, o.res.Counters[mapreduce.CounterBackupTasks], out)
	assert.Contains(t, out, "map 0 is a straggler", "the backup is told as it starts")

	o, out = runSim(t, append(append(small, "-slow", "3s", "-backups=false"), c.files...)...)
	assert.Zero(t, o.res.Counters[mapreduce.CounterBackupTasks], out)
}

func TestStatusPage(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-http", "127.0.0.1:0", "-workers", "2"}, c.files...), out, io.Discard)
	}()

	url := regexp.MustCompile(`stays up at (http://\S+/) until Ctrl-C`)
	var m []string
	require.Eventually(t, func() bool { m = url.FindStringSubmatch(out.String()); return m != nil }, 30*time.Second, 10*time.Millisecond)
	resp, err := http.Get(m[1])
	require.NoError(t, err)
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Contains(t, string(page), "mapreduce job wordcount: done", "the page shows the finished job")
	cancel()
	require.NoError(t, <-done, "Ctrl-C ends the run quietly")
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestOutputDirectory(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 3)
	keep := filepath.Join(t.TempDir(), "out")
	_, out := runSim(t, append([]string{"-reduce", "2", "-out", keep}, c.files...)...)
	assert.FileExists(t, filepath.Join(keep, "part-00000"), out)
	assert.FileExists(t, filepath.Join(keep, "part-00001"))

	_, out = runSim(t, c.files...)
	m := regexp.MustCompile(`The output was in (\S+), removed now`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	assert.NoDirExists(t, m[1], "without -out, the output is removed")
}

func TestTraceWritesTheDiagram(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 5)
	dir := t.TempDir()
	_, out := runSim(t, append([]string{"-workers", "2", "-trace", dir}, c.files...)...)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	for _, want := range []string{`"node":"worker-2"`, `"node":"coordinator"`, "phase: reduce"} {
		assert.Contains(t, string(events), want)
	}
}

func TestTraceIntoAFileFailsFirst(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 1)
	out, err := runWC(t, "-trace", c.files[0], c.files[0])
	require.ErrorContains(t, err, "-trace: mkdir "+c.files[0])
	assert.Empty(t, out, "nothing runs")
}

// The commands of mapreduce.Main: the job sequentially, in this process,
// and a worker that finds no coordinator.
func TestMainsCommands(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 4)
	for _, cmd := range []string{"sequential", "run"} {
		dir := t.TempDir()
		_, err := runWC(t, append([]string{cmd, "-out", dir, "-nreduce", "2"}, c.files...)...)
		require.NoError(t, err, cmd)
		assert.FileExists(t, filepath.Join(dir, "part-00001"), cmd)
	}
	_, err := runWC(t, "worker", "-coordinator", "127.0.0.1:1", "-timeout", "300ms")
	require.ErrorIs(t, err, mapreduce.ErrCoordinatorLost)
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	demotest.CheckUsage(t, run, "wordcount", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-nope"}, Want: "flag provided but not defined: -nope"},
		{Name: "no workers", Args: []string{"-workers", "0"}, Want: "-workers must be between 1 and 64"},
		{Name: "no reduce tasks", Args: []string{"-reduce", "0"}, Want: "-reduce and -top must be at least 1"},
		{Name: "no top", Args: []string{"-top", "0"}, Want: "-reduce and -top must be at least 1"},
		{Name: "crash too likely", Args: []string{"-crash", "1.5"}, Want: "-crash must be between 0 and 1"},
		{Name: "negative crash", Args: []string{"-crash", "-0.1"}, Want: "-crash must be between 0 and 1"},
		{Name: "negative slow", Args: []string{"-slow", "-1s"}, Want: "-slow must not be negative"},
		{Name: "zero timeout", Args: []string{"-timeout", "0"}, Want: "-timeout must be positive"},
		{Name: "split not a size", Args: []string{"-split", "4XB"}, Want: `want a size like 4MiB or 512KiB, not "4XB"`},
		{Name: "split too small", Args: []string{"-split", "10"}, Want: "too small or too big"},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	t.Parallel()
	demotest.CheckHelp(t, run, "-crash")
}

func TestBadInputFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		file string
		want string
	}{
		{"missing", filepath.Join(dir, "nosuch.txt"), "nosuch.txt: no such file or directory"},
		{"directory", dir, dir + " is a directory: name the files in it instead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runWC(t, tt.file)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, out, "nothing runs")
		})
	}
}

func TestUnreadableInputFile(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads every file")
	}
	name := filepath.Join(t.TempDir(), "secret.txt")
	require.NoError(t, os.WriteFile(name, []byte("hidden words"), 0o000))
	_, err := runWC(t, name)
	require.ErrorIs(t, err, os.ErrPermission)
}
