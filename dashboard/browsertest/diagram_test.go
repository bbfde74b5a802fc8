package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/tracerpc"
	"github.com/distsys-kit/distsys/trace/tracesim"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Counter is the service of the traced run.
type Counter struct{ n int }

// Add adds to the counter.
func (c *Counter) Add(args *int, reply *int) error {
	c.n += *args
	*reply = c.n
	return nil
}

// lectureRun records what an instructor would show: three clients calling
// a server with retries over a lossy network, one of them cut off by a
// partition and healed, and the server crashing and coming back. It runs
// in virtual time and writes the diagram to dir.
func lectureRun(t *testing.T, dir string) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		rec := trace.NewRecorder(trace.WithTitle("three clients, a partition and a crash"))
		n := netsim.NewNetwork(3, netsim.WithObserver(tracesim.Observer(rec)))
		defer n.Close()
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Drop: 0.2, Delay: 2 * time.Millisecond}))
		serve := func() func() {
			l, err := n.Listen("server")
			require.NoError(t, err)
			srv := rpc.NewServer(rpc.WithServerInterceptor(tracerpc.ServerInterceptor(rec.Node("server"))))
			require.NoError(t, srv.Register(&Counter{}))
			done := make(chan struct{})
			go func() { srv.Serve(l); close(done) }()
			return func() { srv.Close(); <-done }
		}
		stopServer := serve()
		var clients []*rpc.Client
		for i := 1; i <= 3; i++ {
			name := fmt.Sprintf("client-%d", i)
			c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(n.Dialer(name)),
				rpc.WithRetry(rpc.RetryPolicy{Interval: 20 * time.Millisecond}),
				rpc.WithClientInterceptor(tracerpc.ClientInterceptor(rec.Node(name), "server")))
			require.NoError(t, err)
			clients = append(clients, c)
		}
		calls := func(rounds int) {
			for range rounds {
				for _, c := range clients {
					ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
					one, reply := 1, 0
					c.Call(ctx, "Counter.Add", &one, &reply) // some time out: that is the lesson
					cancel()
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		calls(3)
		n.Partition([]string{"client-3"})
		calls(2)
		n.Heal()
		calls(2)
		n.Crash("server")
		stopServer()
		calls(1)
		n.Restart("server")
		stopServer = serve()
		calls(2)
		for _, c := range clients {
			c.Close()
		}
		stopServer()
		require.NoError(t, rec.WriteFiles(dir))
	})
}

// labelsOverlap returns the pairs of labels of the shown view that
// overlap on the screen, as the browser lays them out with its own fonts.
const labelsOverlap = `(() => {
  const view = [...document.querySelectorAll("svg.view")].find(v => getComputedStyle(v).display !== "none");
  const labels = [...view.querySelectorAll("text.msglabel, text.locallabel, text.droplabel, text.resendlabel, " +
    "text.marklabel, text.crashlabel, text.restartlabel, text.discardedlabel")];
  const boxes = labels.map(l => ({text: l.textContent, r: l.getBoundingClientRect()}));
  const out = [];
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) {
      const a = boxes[i].r, b = boxes[j].r;
      if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 2 && b.top < a.bottom - 2)
        out.push(boxes[i].text + " / " + boxes[j].text);
    }
  return [labels.length, out];
})()`

// The diagram at lecture size: it fits a 1400-pixel projector, and in each
// view no label covers another, measured with the browser's own fonts.
func TestDiagramAtLectureSize(t *testing.T) {
	dir := t.TempDir()
	lectureRun(t, dir)
	ctx := browser(t, 1400, 900)
	do(t, ctx, chromedp.Navigate("file://"+filepath.Join(dir, trace.HTMLFile)), chromedp.WaitVisible(chromedp.CSS("svg.view")))
	assert.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 1400, "no sideways scrolling")
	for _, view := range []string{"causal", "timed"} {
		do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`label[for="view-%s"]`, view))))
		waitFor(t, ctx, fmt.Sprintf(`getComputedStyle(document.querySelector("svg.view.%s")).display !== "none"`, view))
		got := eval[[]any](t, ctx, labelsOverlap)
		assert.Greater(t, got[0], float64(20), "%s: the labels are drawn", view)
		assert.Empty(t, got[1], "%s: labels that overlap", view)
		screenshot(t, ctx, "diagram-"+view)
	}
	page, err := os.ReadFile(filepath.Join(dir, trace.HTMLFile))
	require.NoError(t, err)
	assert.Contains(t, string(page), "partition: {client-3}")
	assert.Contains(t, string(page), "retry")
}
