package mapreduce

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatusPageShowsTasksWorkersAndCounters(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 17, 2, 4<<10)
	inSim(t, 17, func(t *testing.T, n *netsim.Network) {
		job := wordCount(inputs, t.TempDir(), 2)
		c, err := NewCoordinator(job, WithMinWorkers(2)) // both show on the page
		require.NoError(t, err)
		serveCoordinator(t, n, c)
		results := startWorkers(t, n, 2, job)
		_, err = c.Wait(context.Background())
		require.NoError(t, err)
		require.NoError(t, c.Shutdown(context.Background()))
		for range 2 {
			require.NoError(t, (<-results).err)
		}

		h := c.Handler()
		page := httptest.NewRecorder()
		h.ServeHTTP(page, httptest.NewRequest(http.MethodGet, "/", nil))
		assert.Equal(t, "text/html; charset=utf-8", page.Header().Get("Content-Type"))
		html := page.Body.String()
		for _, want := range []string{"mapreduce job wordcount: done", "Map tasks", "Reduce tasks",
			"worker-0", "worker-1", CounterMapOutputRecords, "succeeded"} {
			assert.Contains(t, html, want)
		}
		assert.NotRegexp(t, `done\s+map`, html, "the phase is said once, in the heading")
		assert.Contains(t, html, "map 2/2 &middot; reduce 2/2")

		js := httptest.NewRecorder()
		h.ServeHTTP(js, httptest.NewRequest(http.MethodGet, "/?format=json", nil))
		var st Status
		require.NoError(t, json.Unmarshal(js.Body.Bytes(), &st))
		assert.Equal(t, PhaseDone, st.Phase)
		assert.Len(t, st.Maps, 2)
		assert.Len(t, st.Reduces, 2)
		assert.Len(t, st.Workers, 2)
		assert.Equal(t, c.Status().Counters, st.Counters)
	})
}

func TestSharedDirectoryKeepsMapOutputOfLostWorkers(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 18, 4, 8<<10)
	job := withSplit(invertedIndex(inputs, "", 2), 3000)
	want := oracle(t, job)
	inSim(t, 18, func(t *testing.T, n *netsim.Network) {
		job.OutputDir = t.TempDir()
		shared := t.TempDir()
		// The first worker to commit a map task dies right after: with a
		// shared directory, its output survives it, and nothing runs again.
		var crashed atomic.Bool
		hook := func(e FaultEvent) Fault {
			if e.Kind == MapTask && e.Point == AfterCommit && !crashed.Swap(true) {
				return Fault{Crash: true}
			}
			return Fault{}
		}
		res, err := Run(context.Background(), job, WithNetwork(n), WithWorkers(2), WithScratchDir(t.TempDir()),
			WithSharedDir(shared), WithFaults(hook))
		require.NoError(t, err)
		require.True(t, crashed.Load())
		require.Equal(t, want, readOutputs(t, res.Outputs))
		assert.Zero(t, res.Counters[CounterShuffleBytes], "nothing went over the network")
		assert.Zero(t, res.Counters[CounterReexecutions], "the lost worker's output was still there")
		entries, err := os.ReadDir(shared)
		require.NoError(t, err)
		assert.Empty(t, entries, "the job's shared directory is removed at the end")
	})
}

func TestWorkerRefusesAJobItDoesNotKnow(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 19, 1, 1<<10)
	inSim(t, 19, func(t *testing.T, n *netsim.Network) {
		c, err := NewCoordinator(wordCount(inputs, t.TempDir(), 1))
		require.NoError(t, err)
		serveCoordinator(t, n, c)
		results := startWorkers(t, n, 1, grep("x", nil, "", 1))
		require.ErrorIs(t, (<-results).err, ErrWrongJob)
	})
}

func TestJobFailsWithThePanicMessage(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 20, 2, 2<<10)
	inSim(t, 20, func(t *testing.T, n *netsim.Network) {
		job := wordCount(inputs, t.TempDir(), 1)
		job.Map = func(name, _ string, _ Emitter) { panic("cannot parse " + name[len(name)-9:]) }
		_, err := Run(context.Background(), job, WithNetwork(n), WithWorkers(2), WithScratchDir(t.TempDir()), WithMaxAttempts(3))
		require.ErrorIs(t, err, ErrJobFailed)
		var te *TaskError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 3, te.Attempts)
		assert.Contains(t, te.Msg, "Map panicked: cannot parse in-0")
		assert.Contains(t, te.Msg, "service_test.go")
	})
}

func TestSharedSecretKeepsStrangersOut(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 21, 1, 1<<10)
	inSim(t, 21, func(t *testing.T, n *netsim.Network) {
		job := wordCount(inputs, t.TempDir(), 1)
		c, err := NewCoordinator(job)
		require.NoError(t, err)
		l, err := n.Listen("coordinator")
		require.NoError(t, err)
		done := make(chan struct{})
		go func() { defer close(done); _ = c.Serve(transport.NewSignedListener(l, []byte("job secret"))) }()
		t.Cleanup(func() { c.Close(); <-done })
		stranger := startWorkers(t, n, 1, job, WithTimeout(DefaultTimeout),
			WithDialer(transport.NewSignedDialer(n.Dialer("worker-0"), []byte("a guess"))))
		err = (<-stranger).err
		require.ErrorIs(t, err, transport.ErrUnauthenticated)
	})
}

func TestServeReturnsErrClosedAfterClose(t *testing.T) {
	t.Parallel()
	inSim(t, 19, func(t *testing.T, n *netsim.Network) {
		c, err := NewCoordinator(wordCount(nil, t.TempDir(), 1))
		require.NoError(t, err)
		l, err := n.Listen("coordinator")
		require.NoError(t, err)
		served := make(chan error, 1)
		go func() { served <- c.Serve(l) }()
		require.NoError(t, c.Close())
		err = <-served
		require.ErrorIs(t, err, ErrClosed)
		assert.ErrorIs(t, err, rpc.ErrServerClosed)
	})
}
