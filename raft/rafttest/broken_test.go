package rafttest_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft/rafttest"
	"github.com/distsys-kit/distsys/trace"
)

// soloRaft is a deliberately broken Raft: every server believes it is
// the leader of term 1 and commits what it is given at once, without
// asking anyone. The harness must catch it.
type soloRaft struct {
	cfg   rafttest.ServerConfig
	mu    sync.Mutex // protects log
	log   [][]byte
	queue chan rafttest.ApplyMsg // buffered: Start never waits for the applier; the tests send few
	done  chan struct{}
	wg    sync.WaitGroup
}

func startSolo(cfg rafttest.ServerConfig) (rafttest.Server, error) {
	s := &soloRaft{cfg: cfg, queue: make(chan rafttest.ApplyMsg, 64), done: make(chan struct{})}
	s.wg.Go(func() { // exits when done is closed
		for {
			select {
			case m := <-s.queue:
				select {
				case cfg.Apply <- m:
				case <-s.done:
					return
				}
			case <-s.done:
				return
			}
		}
	})
	return s, nil
}

func (s *soloRaft) Start(cmd []byte) (uint64, uint64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, cmd)
	index := uint64(len(s.log))
	s.queue <- rafttest.ApplyMsg{CommandValid: true, Command: cmd, CommandIndex: index, CommandTerm: 1}
	return index, 1, true
}

func (s *soloRaft) GetState() (uint64, bool) { return 1, true }
func (s *soloRaft) Snapshot(uint64, []byte)  {}

func (s *soloRaft) Kill() {
	close(s.done)
	s.wg.Wait()
	_ = s.cfg.Listener.Close()
}

// recordingTB is a TB that keeps the failures instead of failing the
// test, so that a test can check that the harness failed.
type recordingTB struct {
	name     string
	mu       sync.Mutex
	failures []string
	cleanups []func()
}

func (r *recordingTB) Helper()      {}
func (r *recordingTB) Name() string { return r.name }
func (r *recordingTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failures) > 0
}
func (r *recordingTB) Cleanup(f func())                { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) Logf(format string, args ...any) {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, sprintf(format, args...))
}

// Fatalf records the failure and ends the goroutine, as testing's does.
func (r *recordingTB) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

// run runs scenario as a test on r, then r's cleanups, and returns the
// failures.
func (r *recordingTB) run(scenario func()) string {
	done := make(chan struct{})
	go func() {
		defer close(done)
		scenario()
	}()
	<-done
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.failures, "\n")
}

func TestHarnessCatchesTwoLeadersInOneTerm(t *testing.T) {
	t.Setenv(trace.TraceDirEnv, t.TempDir())
	synctest.Test(t, func(t *testing.T) {
		tb := &recordingTB{name: "solo"}
		failures := tb.run(func() {
			c := rafttest.New(tb, 3, 42, rafttest.WithServer(startSolo))
			c.CheckOneLeader()
		})
		assert.Contains(t, failures, "Election Safety")
		assert.Contains(t, failures, "seed 42")
		assert.Contains(t, failures, "what hit:")
		_, err := os.Stat(filepath.Join(os.Getenv(trace.TraceDirEnv), "solo-seed42", trace.HTMLFile))
		assert.NoError(t, err, "the diagram of the failed run is written")
	})
}

func TestHarnessCatchesDifferentCommandsAtOneIndex(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tb := &recordingTB{name: "solo"}
		var violation error
		failures := tb.run(func() {
			c := rafttest.New(tb, 3, 7, rafttest.WithServer(startSolo), rafttest.WithTraceEvents(-1),
				rafttest.WithCheckEvery(time.Hour)) // only the applied entries are checked
			c.Server(0).Start(cmd(1))
			c.Server(1).Start(cmd(2))
			time.Sleep(time.Millisecond)
			violation = c.Violation()
		})
		require.Error(t, violation)
		assert.Contains(t, failures, "State Machine Safety")
		assert.Contains(t, failures, "seed 7")
	})
}
