package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/internal/demo"
	"github.com/distsys-kit/distsys/examples/internal/demo/demotest"
	"github.com/distsys-kit/distsys/mapreduce"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		// This test binary was started by a -mode processes test, as
		// "wordcount.test worker -coordinator ...": be that worker.
		demo.Main("wordcount", run)
	}
	goleak.VerifyTestMain(m)
}

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

func (c testCorpus) total() (words int64) {
	for _, n := range c.want {
		words += n
	}
	return words
}

// runWC runs the program with args and returns what it printed.
func runWC(tb testing.TB, args ...string) (stdout, stderr string, err error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	err = run(ctx, args, &out, &errb)
	return out.String(), errb.String(), err
}

var (
	topLine    = regexp.MustCompile(`(?m)^ +\d+  (\S+) +(\d+)$`)
	totalsLine = regexp.MustCompile(`most frequent of (\d+) words \((\d+) distinct\)`)
)

// printedTop returns the top words the program printed, as "word count".
func printedTop(out string) []string {
	var lines []string
	for _, m := range topLine.FindAllStringSubmatch(out, -1) {
		lines = append(lines, m[1]+" "+m[2])
	}
	return lines
}

// counter returns the number on the program's line that starts with name.
func counter(tb testing.TB, out, name string) int {
	tb.Helper()
	m := regexp.MustCompile(`(?m)^` + name + ` +(\d+)`).FindStringSubmatch(out)
	require.NotNil(tb, m, "no %q line in:\n%s", name, out)
	n, err := strconv.Atoi(m[1])
	require.NoError(tb, err)
	return n
}

// small are the flags that make a small corpus several tasks.
var small = []string{"-split", "4KiB", "-workers", "3", "-reduce", "3", "-top", "6", "-timeout", "1s"}

func TestCountsMatchTheCorpus(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 30)
	out, _, err := runWC(t, append(append(small, "-check"), c.files...)...)
	require.NoError(t, err, out)

	assert.Equal(t, c.top(6), printedTop(out))
	totals := totalsLine.FindStringSubmatch(out)
	require.NotNil(t, totals, out)
	assert.Equal(t, []string{strconv.FormatInt(c.total(), 10), strconv.Itoa(len(c.want))}, totals[1:])
	assert.Contains(t, out, "30 files")
	assert.Contains(t, out, "wrote the same 3 files, byte for byte")
	assert.Greater(t, counter(t, out, "tasks"), 5, "the corpus is cut into several map tasks")
	assert.Equal(t, 0, counter(t, out, "re-executed"))
	assert.NotContains(t, out, "\r", "no progress bar when stdout is not a terminal")
	assert.Contains(t, out, "reduce phase over")
}

// With workers dying in 20% of first attempts, the top words stay the same,
// and some tasks run again. Backup tasks are off so that the attempt a
// crash kills is re-executed, not overtaken by a backup copy.
func TestCrashedWorkersDoNotChangeTheCounts(t *testing.T) {
	t.Parallel()
	const seed = 24
	requireCrashInFirstAttempts(t, seed)
	c := writeCorpus(t, 30)
	out, _, err := runWC(t, append(append(small, "-crash", "0.2", "-seed", strconv.Itoa(seed), "-backups=false", "-check"), c.files...)...)
	require.NoError(t, err, out)

	assert.Equal(t, c.top(6), printedTop(out))
	assert.Contains(t, out, "Faults: a worker dies in 20% of first task attempts (seed 24)")
	assert.Contains(t, out, "byte for byte")
	assert.Positive(t, counter(t, out, "re-executed"), out)
}

// requireCrashInFirstAttempts checks the premise of the crash tests: with
// this seed, the worker running the first attempt of one of the first
// map tasks dies before it commits, so that the task must run again.
func requireCrashInFirstAttempts(tb testing.TB, seed int64) {
	tb.Helper()
	hook := faultHook(config{crash: 0.2, seed: seed})
	for i := range 3 {
		if hook(mapreduce.FaultEvent{Kind: mapreduce.MapTask, Index: i, Attempt: 1, Point: mapreduce.BeforeCommit}).Crash {
			return
		}
	}
	tb.Fatalf("seed %d crashes none of the first map attempts: pick another", seed)
}

func TestWorkersAsProcesses(t *testing.T) {
	t.Parallel()
	const seed = 24
	requireCrashInFirstAttempts(t, seed)
	c := writeCorpus(t, 20)
	out, _, err := runWC(t, append(append(small, "-mode", "processes", "-workers", "2",
		"-crash", "0.2", "-seed", strconv.Itoa(seed), "-backups=false"), c.files...)...)
	require.NoError(t, err, out)

	assert.Equal(t, c.top(6), printedTop(out))
	assert.Contains(t, out, "processes of this program")
	assert.Positive(t, counter(t, out, "re-executed"), out)
	started := regexp.MustCompile(`(\d+) workers started in all`).FindStringSubmatch(out)
	require.NotNil(t, started, out)
	n, _ := strconv.Atoi(started[1])
	assert.Greater(t, n, 2, "crashed worker processes were replaced")
}

func TestOutputDirectory(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 3)
	keep := filepath.Join(t.TempDir(), "out")
	out, _, err := runWC(t, append([]string{"-reduce", "2", "-out", keep}, c.files...)...)
	require.NoError(t, err, out)
	assert.FileExists(t, filepath.Join(keep, "part-00000"))
	assert.FileExists(t, filepath.Join(keep, "part-00001"))

	out, _, err = runWC(t, c.files...)
	require.NoError(t, err, out)
	m := regexp.MustCompile(`The output was in (\S+), removed now`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	assert.NoDirExists(t, m[1], "without -out, the output is removed")
}

func TestTraceWritesTheDiagram(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 5)
	dir := t.TempDir()
	out, _, err := runWC(t, append([]string{"-workers", "2", "-trace", dir}, c.files...)...)
	require.NoError(t, err, out)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	assert.Regexp(t, `It shows all \d+ events of the run`, out)
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	for _, want := range []string{`"node":"worker-2"`, "Coordinator.GetTask", "Worker.Fetch", "phase: reduce"} {
		assert.Contains(t, string(events), want)
	}
}

func TestTraceIntoAFileFailsFirst(t *testing.T) {
	t.Parallel()
	c := writeCorpus(t, 1)
	out, _, err := runWC(t, "-trace", c.files[0], c.files[0])
	require.ErrorContains(t, err, "-trace: mkdir "+c.files[0])
	assert.Empty(t, out, "nothing runs")
}

func TestBadFlags(t *testing.T) {
	t.Parallel()
	demotest.CheckUsage(t, run, "wordcount", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-nope"}, Want: "flag provided but not defined: -nope"},
		{Name: "no workers", Args: []string{"-workers", "0"}, Want: "-workers must be between 1 and 64"},
		{Name: "no reduce tasks", Args: []string{"-reduce", "0"}, Want: "-reduce and -top must be at least 1"},
		{Name: "no top", Args: []string{"-top", "0"}, Want: "-reduce and -top must be at least 1"},
		{Name: "unknown mode", Args: []string{"-mode", "threads"}, Want: `-mode must be inprocess or processes, not "threads"`},
		{Name: "crash too likely", Args: []string{"-crash", "1.5"}, Want: "-crash must be between 0 and 1"},
		{Name: "negative crash", Args: []string{"-crash", "-0.1"}, Want: "-crash must be between 0 and 1"},
		{Name: "negative slow", Args: []string{"-slow", "-1s"}, Want: "-slow must not be negative"},
		{Name: "zero timeout", Args: []string{"-timeout", "0"}, Want: "-timeout must be positive"},
		{Name: "split not a size", Args: []string{"-split", "4XB"}, Want: `want a size like 4MiB or 512KiB, not "4XB"`},
		{Name: "split too small", Args: []string{"-split", "10"}, Want: "too small or too big"},
		{Name: "trace with processes", Args: []string{"-mode", "processes", "-trace", "x"}, Want: "-trace needs -mode inprocess"},
		{Name: "worker without coordinator", Args: []string{"worker"}, Want: "-coordinator host:port is required"},
		{Name: "worker with arguments", Args: []string{"worker", "-coordinator", "h:1", "file"}, Want: "-coordinator host:port is required"},
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
			out, _, err := runWC(t, tt.file)
			require.Error(t, err)
			assert.NotErrorIs(t, err, demo.ErrUsage, "a bad file is not a bad flag: exit status 1")
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
	_, _, err := runWC(t, name)
	require.ErrorIs(t, err, os.ErrPermission)
}

// A worker whose coordinator never answers gives up after the timeout.
func TestWorkerGivesUpWithoutItsCoordinator(t *testing.T) {
	t.Parallel()
	_, _, err := runWC(t, "worker", "-coordinator", "127.0.0.1:1", "-timeout", "300ms")
	require.ErrorIs(t, err, mapreduce.ErrCoordinatorLost)
}
