package dashboard

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// stuckWriter is a browser that does not read: every Write blocks until
// the test opens the gate.
type stuckWriter struct {
	header http.Header
	gate   chan struct{}

	mu  sync.Mutex // protects buf
	buf bytes.Buffer
}

func newStuckWriter() *stuckWriter {
	return &stuckWriter{header: http.Header{}, gate: make(chan struct{})}
}

func (w *stuckWriter) Header() http.Header { return w.header }
func (w *stuckWriter) WriteHeader(int)     {}
func (w *stuckWriter) Flush()              {}

func (w *stuckWriter) Write(p []byte) (int, error) {
	<-w.gate
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.Write(p)
}

func (w *stuckWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// A browser that reads nothing does not slow the network down: the events
// it cannot take are counted, and it is told how many when it reads again.
func TestAStuckBrowserNeverBlocksTheNetwork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		a, err := n.ListenPacket("a")
		require.NoError(t, err)
		defer a.Close()
		b, err := n.ListenPacket("b")
		require.NoError(t, err)
		defer b.Close()
		d := New(n, WithBuffer(8))

		w := newStuckWriter()
		ctx, cancel := context.WithCancel(t.Context())
		served := make(chan struct{})
		go func() {
			defer close(served)
			d.ServeHTTP(w, httptest.NewRequest("GET", "/events", nil).WithContext(ctx))
		}()
		synctest.Wait() // the stream is stuck on its first write
		for range 1000 {
			// If the dashboard waited for the browser, this would block
			// for good, and synctest would report the deadlock.
			_, err := a.WriteTo([]byte("x"), netsim.Addr("b"))
			require.NoError(t, err)
		}
		subs := *d.subs.Load()
		require.Len(t, subs, 1)
		assert.EqualValues(t, 2000-8, subs[0].lost.Load(), "1000 sends and 1000 deliveries, 8 kept")

		close(w.gate)
		synctest.Wait()
		assert.Contains(t, w.String(), "event: lost\ndata: {\"count\":1992}\n")
		cancel()
		<-served
		require.NoError(t, d.Close())
	})
}

// do runs a control on d, as a browser would, and returns the status.
func do(d *Dashboard, path, body string) int {
	rec := httptest.NewRecorder()
	d.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
	return rec.Code
}

func TestPauseStepAndSlowMotion(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		a, err := n.ListenPacket("a")
		require.NoError(t, err)
		defer a.Close()
		b, err := n.ListenPacket("b")
		require.NoError(t, err)
		defer b.Close()
		d := New(n)
		delivered := func() int64 { return n.LinkStats("a", "b").Delivered }

		require.Equal(t, http.StatusOK, do(d, "/api/pause", ""))
		for i := range 10 {
			_, err := a.WriteTo([]byte{byte(i)}, netsim.Addr("b"))
			require.NoError(t, err)
		}
		time.Sleep(time.Second)
		assert.Zero(t, delivered(), "paused")
		require.Equal(t, http.StatusOK, do(d, "/api/step", `{"count": 1}`))
		assert.EqualValues(t, 1, delivered(), "one step, one message")
		require.Equal(t, http.StatusOK, do(d, "/api/step", `{}`))
		assert.EqualValues(t, 2, delivered())

		require.Equal(t, http.StatusOK, do(d, "/api/slow", `{"rate": 2}`))
		assert.InDelta(t, 2, d.state().Slow, 0)
		time.Sleep(2*time.Second + time.Millisecond)
		assert.EqualValues(t, 6, delivered(), "two a second for two seconds")

		require.NoError(t, d.Close())
		assert.False(t, n.State().Holding, "closing the dashboard ends its slow motion")
		assert.EqualValues(t, 10, delivered(), "and lets the held messages through")
	})
}

// The exported test replays the session: the network's seed, and each
// change at the moment it was made.
func TestReplayTestReplaysTheSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(42)
		defer n.Close()
		for _, name := range []string{"alice", "primary", "backup"} {
			pc, err := n.ListenPacket(name)
			require.NoError(t, err)
			defer pc.Close()
		}
		d := New(n, WithTitle("partition"), WithSetup("startCluster(t, n)"))
		defer d.Close()
		time.Sleep(1500 * time.Millisecond)
		require.Equal(t, http.StatusOK, do(d, "/api/partition", `{"groups": [["alice", "primary"], ["backup"]]}`))
		time.Sleep(2 * time.Second)
		require.Equal(t, http.StatusOK, do(d, "/api/faults", `{"from": "alice", "to": "primary", "drop": 0.25, "delayMs": 30}`))
		require.Equal(t, http.StatusOK, do(d, "/api/crash", `{"node": "backup"}`))
		require.Equal(t, http.StatusOK, do(d, "/api/pause", ``)) // not a fault: not replayed
		time.Sleep(500 * time.Millisecond)
		require.Equal(t, http.StatusOK, do(d, "/api/restart", `{"node": "backup"}`))
		require.Equal(t, http.StatusOK, do(d, "/api/link", `{"from": "backup", "to": "alice", "cut": true}`))
		require.Equal(t, http.StatusOK, do(d, "/api/heal", ``))

		assert.Equal(t, `// Code exported by the distsys dashboard "partition".

package replay_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// TestReplayDashboardSession replays the faults of a dashboard session,
// 6 changes of the network over 4s, on the seed of its network, each at
// the moment it was made, in virtual time.
func TestReplayDashboardSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(42)
		defer n.Close()
		n.LogSeedOnFailure(t)

		// Start the system under test on n here.
		startCluster(t, n)

		time.Sleep(1500 * time.Millisecond) // until 1.5s
		n.Partition([]string{"alice", "primary"}, []string{"backup"})
		time.Sleep(2000 * time.Millisecond) // until 3.5s
		if err := n.SetFaults("alice", "primary", transport.Faults{Drop: 0.25, Delay: 30 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		n.Crash("backup")
		time.Sleep(500 * time.Millisecond) // until 4s
		n.Restart("backup")
		n.CutLink("backup", "alice")
		n.Heal()

		// Check here what the system must guarantee, whatever the faults.
	})
}
`, d.ReplayTest())
	})
}

func TestReplayTestOfAQuietSession(t *testing.T) {
	t.Parallel()
	n := netsim.NewNetwork(7)
	defer n.Close()
	d := New(n)
	defer d.Close()
	src := d.ReplayTest()
	assert.Contains(t, src, "netsim.NewNetwork(7)")
	assert.NotContains(t, src, `"time"`, "no change, no sleep: the file compiles without time")
	assert.NotContains(t, src, "transport\"", "nor transport")
	assert.Contains(t, src, "// Start the system under test on n here.\n")
}
