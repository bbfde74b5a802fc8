package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/cmd/internal/clitest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "mapreduce", nil, string(readme))
}

func TestRoleHelpIsNotAnError(t *testing.T) {
	for _, role := range []string{"coordinator", "worker", "run", "sequential"} {
		stderr := captureStderr(t)
		require.NoError(t, run(context.Background(), []string{role, "-h"}, &clitest.Output{}, &clitest.Output{}), role)
		stderr.WaitLine(t, "-listen")
	}
}

// captureStderr sends what the process writes to os.Stderr to the Output
// it returns, until the end of the test: mapreduce.Main writes its
// progress and its addresses there, not to run's stderr. Tests that call
// it must not run in parallel with others.
func captureStderr(t *testing.T) *clitest.Output {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := os.Stderr
	os.Stderr = w
	out := &clitest.Output{}
	copied := make(chan struct{})
	go func() { // exits when w is closed
		defer close(copied)
		_, _ = io.Copy(out, r)
	}()
	// Registered before the programs start, so it runs after they stop.
	t.Cleanup(func() {
		os.Stderr = saved
		w.Close()
		<-copied
		r.Close()
	})
	return out
}

func TestUsageErrors(t *testing.T) {
	clitest.CheckUsageError(t, run, nil, "which role? coordinator, worker, run or sequential")
	clitest.CheckUsageError(t, run, []string{"-nope"}, "flag provided but not defined: -nope")
}

// inputs writes a few small files and returns their paths.
func inputs(t *testing.T) []string {
	t.Helper()
	dir := t.TempDir()
	texts := []string{
		"Call me Ishmael. Some years ago, never mind how long precisely,\nhaving little or no money in my purse\n",
		"It was the best of times, it was the worst of times,\nit was the age of wisdom\n",
		"Happy families are all alike; every unhappy family is unhappy in its own way.\nIt was\n",
	}
	var paths []string
	for i, s := range texts {
		p := filepath.Join(dir, fmt.Sprintf("in-%d.txt", i))
		require.NoError(t, os.WriteFile(p, []byte(s), 0o644))
		paths = append(paths, p)
	}
	return paths
}

// output returns the lines of a job's output files, sorted.
func output(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "part-*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var lines []string
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		lines = append(lines, strings.Split(strings.TrimSpace(string(data)), "\n")...)
	}
	slices.Sort(lines)
	return lines
}

// sequential runs the oracle with pre (the program's own flags) and args
// (the role's), and returns its output.
func sequential(t *testing.T, pre []string, args ...string) []string {
	t.Helper()
	out := t.TempDir()
	all := slices.Concat(pre, []string{"sequential", "-out", out}, args)
	require.NoError(t, run(context.Background(), all, &clitest.Output{}, &clitest.Output{}))
	return output(t, out)
}

func TestRunMatchesSequential(t *testing.T) {
	captureStderr(t) // the progress lines
	in := inputs(t)
	tests := []struct {
		name string
		pre  []string
		args []string
		want string // a line of the output
	}{
		{"wordcount", nil, []string{"-job", "wordcount", "-nreduce", "3"}, "was\t4"},
		{"index", nil, []string{"-job", "index", "-nreduce", "2"}, "was\t2 in-1.txt,in-2.txt"},
		{"grep", []string{"-grep", "was"}, []string{"-nreduce", "2"}, "in-1.txt\tIt was the best of times, it was the worst of times,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := sequential(t, tt.pre, slices.Concat(tt.args, in)...)
			assert.Contains(t, want, tt.want)
			out := t.TempDir()
			args := slices.Concat(tt.pre, []string{"run", "-workers", "2", "-out", out}, tt.args, in)
			require.NoError(t, run(context.Background(), args, &clitest.Output{}, &clitest.Output{}))
			assert.Equal(t, want, output(t, out))
		})
	}
}

func TestCoordinatorAndWorkers(t *testing.T) {
	in := inputs(t)
	out := t.TempDir()
	stderr := captureStderr(t)
	coord := clitest.Start(t, run, slices.Concat([]string{"coordinator", "-job", "wordcount", "-listen", "127.0.0.1:0",
		"-http", "127.0.0.1:0", "-workers", "2", "-timeout", "5s", "-out", out}, in)...)
	addr := strings.Fields(stderr.WaitLine(t, "coordinator listening on"))[3]
	page := strings.Fields(stderr.WaitLine(t, "status page on"))[3]

	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := hc.Get(page + "?format=json")
	require.NoError(t, err)
	var st struct{ Job, Phase string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&st))
	resp.Body.Close()
	assert.Equal(t, "wordcount", st.Job)

	for range 2 {
		w := clitest.Start(t, run, "worker", "-coordinator", addr, "-timeout", "5s")
		t.Cleanup(func() { assert.NoError(t, w.Wait(t)) })
	}
	require.NoError(t, coord.Wait(t))
	assert.Equal(t, sequential(t, nil, slices.Concat([]string{"-job", "wordcount"}, in)...), output(t, out))
}

func TestGrepWorkerWithAnotherPatternIsRefused(t *testing.T) {
	in := inputs(t)
	stderr := captureStderr(t)
	clitest.Start(t, run, slices.Concat([]string{"-grep", "was", "coordinator", "-listen", "127.0.0.1:0", "-out", t.TempDir()}, in)...)
	addr := strings.Fields(stderr.WaitLine(t, "coordinator listening on"))[3]
	err := run(context.Background(), []string{"-grep", "is", "worker", "-coordinator", addr}, &clitest.Output{}, &clitest.Output{})
	require.ErrorContains(t, err, `it runs "grep \"was\""`)
}

func TestWithCluster(t *testing.T) {
	cf := cli.ClusterFlags{File: "c.conf", Cluster: cli.Cluster{Peers: []cli.Peer{{ID: "coordinator", Addr: "10.0.0.1:7090"}}}}
	tests := []struct {
		name string
		give []string
		want []string
	}{
		{"coordinator", []string{"coordinator", "-job", "x", "a.txt"}, []string{"coordinator", "-listen", ":7090", "-job", "x", "a.txt"}},
		{"coordinator with -listen", []string{"coordinator", "--listen=:1", "a.txt"}, []string{"coordinator", "--listen=:1", "a.txt"}},
		{"worker", []string{"worker", "-v"}, []string{"worker", "-coordinator", "10.0.0.1:7090", "-v"}},
		{"worker with -coordinator", []string{"worker", "-coordinator", "h:1"}, []string{"worker", "-coordinator", "h:1"}},
		{"a file named -listen", []string{"coordinator", "--", "-listen"}, []string{"coordinator", "-listen", ":7090", "--", "-listen"}},
		{"run", []string{"run", "a.txt"}, []string{"run", "a.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := withCluster(tt.give, cf)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := withCluster([]string{"worker"}, cli.ClusterFlags{File: "c.conf"})
	require.ErrorContains(t, err, `c.conf: no peer "coordinator"`)
}
