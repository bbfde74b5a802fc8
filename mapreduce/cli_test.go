package mapreduce

import (
	"bytes"
	"context"
	"flag"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMainRunsTheJobInProcessAndSequentially(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 22, 3, 8<<10)
	want := oracle(t, withSplit(grep("ab", inputs, "", 2), 5000))
	jobs := []Job{wordCount(nil, "", 0), grep("ab", nil, "", 0)}
	for _, cmd := range []string{"run", "sequential"} {
		t.Run(cmd, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			var stderr bytes.Buffer
			args := []string{cmd, "-job", "grep", "-nreduce", "2", "-split", "5000", "-out", out}
			if cmd == "run" {
				args = append(args, "-workers", "2")
			}
			args = append(args, inputs...)
			require.NoError(t, mainWith(context.Background(), args, jobs, &stderr))
			assert.Contains(t, stderr.String(), "job done: 2 output files")
			assert.Contains(t, stderr.String(), "matches")
			got := readOutputs(t, []string{OutputFile(out, 0), OutputFile(out, 1)})
			require.Equal(t, want, got)
		})
	}
}

func TestMainUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	one := []Job{wordCount(nil, dir, 1)}
	two := []Job{wordCount(nil, dir, 1), grep("x", nil, dir, 1)}
	tests := []struct {
		name string
		args []string
		jobs []Job
		want string
	}{
		{"no command", nil, one, "usage"},
		{"unknown command", []string{"dance"}, one, `unknown command "dance"`},
		{"worker without coordinator", []string{"worker"}, one, "-coordinator host:port is required"},
		{"several jobs, none picked", []string{"sequential"}, two, "pick a job with -job"},
		{"no such job", []string{"sequential", "-job", "sort"}, two, `no job "sort"`},
		{"no jobs", []string{"sequential"}, nil, "Main was given no job"},
		{"bad flag", []string{"run", "-nope"}, one, "flag provided but not defined"},
		{"flag of another command", []string{"worker", "-coordinator", "x:1", "-nreduce", "3"}, one,
			"worker: flag -nreduce does nothing here (it is for: coordinator run sequential)"},
		{"worker flag for the coordinator", []string{"coordinator", "-crash-before", "0.1"}, one, "flag -crash-before does nothing here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := mainWith(context.Background(), tt.args, tt.jobs, &bytes.Buffer{})
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestMainHelp(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	err := mainWith(context.Background(), []string{"coordinator", "-h"}, []Job{wordCount(nil, "", 1)}, &stderr)
	require.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, stderr.String(), "-listen")
}
