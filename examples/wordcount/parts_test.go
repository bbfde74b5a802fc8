package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/mapreduce"
)

// emitted collects what a Map emits.
type emitted struct{ keys []string }

func (e *emitted) Emit(key, _ string)      { e.keys = append(e.keys, key) }
func (e *emitted) Count(_ string, _ int64) {}

func TestMapEmitsWords(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give string
		want []string
	}{
		{"the cat, the hat.\n", []string{"the", "cat", "the", "hat"}},
		{"x := 0x1f + 42 // héllo", []string{"x", "héllo"}},
		{"fetch_output(x2, 9lives)", []string{"fetch_output", "x2"}},
		{"", nil},
	}
	job := wordCountJob(nil, 1, 0, "")
	for _, tt := range tests {
		var e emitted
		job.Map("in", tt.give, &e)
		assert.Equal(t, tt.want, e.keys, "Map(%q)", tt.give)
	}
}

func TestPackJoinsSmallFilesAndKeepsBigOnes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) file {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
		return file{path, int64(len(text))}
	}
	files := []file{
		write("a", "one two"),           // no newline: pack adds one
		write("b", "three\n"),           // fits with a
		write("big", "0123456789abc\n"), // 14 bytes: used in place
		write("c", "four five\n"),       // does not fit with a and b: a new input
	}
	inputs, err := pack(files, 14, filepath.Join(dir, "packed"))
	require.NoError(t, err)
	require.Len(t, inputs, 3)
	read := func(path string) string {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		return string(data)
	}
	assert.Equal(t, "one two\nthree\n", read(inputs[0]))
	assert.Equal(t, files[2].path, inputs[1])
	assert.Equal(t, "four five\n", read(inputs[2]))
}

func TestSizeFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give    string
		want    size
		wantErr string
	}{
		{"4MiB", 4 << 20, ""},
		{"4 MB", 4 << 20, ""},
		{"512k", 512 << 10, ""},
		{"1.5GiB", 3 << 29, ""},
		{"2048", 2048, ""},
		{"100", 0, "too small"},
		{"2TiB", 0, "want a size"},
		{"lots", 0, "want a size"},
		{"", 0, "want a size"},
	}
	for _, tt := range tests {
		var s size
		err := s.Set(tt.give)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr, tt.give)
			continue
		}
		require.NoError(t, err, tt.give)
		assert.Equal(t, tt.want, s, tt.give)
	}
	s := size(90363980)
	assert.Equal(t, "86.2 MiB", s.String())
}

func TestFaultHook(t *testing.T) {
	t.Parallel()
	assert.Nil(t, faultHook(config{seed: 1}, nil), "no faults, no hook")

	hook := faultHook(config{crash: 0.2, slow: time.Second, seed: 3}, nil)
	straggler := mapreduce.FaultEvent{Kind: mapreduce.MapTask, Index: 0, Attempt: 1, Point: mapreduce.BeforeTask}
	assert.Equal(t, time.Second, hook(straggler).Delay)
	straggler.Attempt = 2
	assert.Zero(t, hook(straggler).Delay, "only the first attempt is slow")
	for i := range 1000 {
		e := mapreduce.FaultEvent{Kind: mapreduce.MapTask, Index: i, Attempt: 2, Point: mapreduce.BeforeCommit}
		require.False(t, hook(e).Crash, "later attempts never crash")
	}

	crashed := 0
	const attempts = 10000
	for i := range attempts {
		for _, p := range []mapreduce.FaultPoint{mapreduce.BeforeCommit, mapreduce.AfterCommit} {
			if hook(mapreduce.FaultEvent{Kind: mapreduce.ReduceTask, Index: i, Attempt: 1, Point: p}).Crash {
				crashed++
				break
			}
		}
	}
	assert.InDelta(t, 0.2, float64(crashed)/attempts, 0.02, "a worker dies in about 20%% of first attempts")
}

func TestBar(t *testing.T) {
	t.Parallel()
	p := mapreduce.Progress{Phase: mapreduce.PhaseReduce, MapsDone: 12, Maps: 12, ReducesDone: 0, Reduces: 4,
		Workers: 4, Reexecutions: 2, Elapsed: 1500 * time.Millisecond}
	assert.Equal(t, "[######################........] map 12/12  reduce 0/4  workers 4  re-executed 2  1.5s", bar(p))
	assert.Equal(t, "map 12/12  reduce 0/4  workers 4  re-executed 2", counts(p))
	assert.LessOrEqual(t, len(bar(p)), barWidth)
}

func TestDisplayNarratesWithoutATerminal(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	d := newDisplay(&out, demo.NewTracer("", ""))
	assert.False(t, d.tty)
	d.update(mapreduce.Progress{Phase: mapreduce.PhaseMap, Maps: 2, Reduces: 1})
	d.died("worker-2", mapreduce.MapTask, 1, mapreduce.AfterCommit)
	for _, p := range []mapreduce.Progress{
		{Phase: mapreduce.PhaseReduce, Maps: 2, MapsDone: 2, Reduces: 1},
		{Phase: mapreduce.PhaseMap, Maps: 2, MapsDone: 1, Reduces: 1, LostWorkers: 1},
		{Phase: mapreduce.PhaseReduce, Maps: 2, MapsDone: 2, Reduces: 1, LostWorkers: 1},
		{Phase: mapreduce.PhaseDone, Maps: 2, MapsDone: 2, Reduces: 1, ReducesDone: 1, LostWorkers: 1},
	} {
		d.update(p)
	}
	d.finish()
	d.update(mapreduce.Progress{Phase: mapreduce.PhaseMap}) // after finish: ignored
	var got []string
	elapsed := regexp.MustCompile(`^ *(\S+s)? +`) // the time, if any, before each line
	for line := range strings.Lines(out.String()) {
		got = append(got, strings.TrimSpace(elapsed.ReplaceAllString(line, "")))
	}
	assert.Equal(t, []string{
		"worker-2 dies during map 1, right after it committed its output",
		"map phase over: 2 map tasks done",
		"a worker declared lost by the coordinator: its task, and the map output on its disk, will be made again",
		"back to the map phase: a reducer needs map output that died with its worker",
		"map phase over: 2 map tasks done",
		"reduce phase over: 1 reduce tasks done",
	}, got, "one line per event, as it happens")
	assert.Equal(t, 1, d.crashCount())
}

func TestGoSourcesAreFound(t *testing.T) {
	t.Parallel()
	root, err := goroot(context.Background())
	require.NoError(t, err)
	files, err := goSources(filepath.Join(root, "src"))
	require.NoError(t, err)
	assert.Greater(t, len(files), 1000, "Go's sources are thousands of files")
	assert.True(t, strings.HasSuffix(files[0].path, ".go"))
	_, err = goSources(t.TempDir())
	assert.ErrorContains(t, err, "no .go files")
}
