package browsertest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// open loads the dashboard of s at projector size and waits until the
// page is connected and shows every node and some delivered messages.
func open(t *testing.T, s *system) (ctx context.Context) {
	t.Helper()
	ctx = browser(t, 1400, 900)
	do(t, ctx, chromedp.Navigate(s.srv.URL), chromedp.WaitVisible(chromedp.ID("graph")))
	waitFor(t, ctx, `document.getElementById("status").textContent === "connected"`)
	for _, n := range nodes {
		waitFor(t, ctx, fmt.Sprintf(`document.querySelector('g.node[data-node=%q]') !== null`, n))
	}
	waitFor(t, ctx, `Number(document.getElementById("delivered").textContent) > 0`)
	return ctx
}

// counter reads a counter of the page.
func counter(t *testing.T, ctx context.Context, id string) int {
	t.Helper()
	return eval[int](t, ctx, fmt.Sprintf(`Number(document.getElementById(%q).textContent)`, id))
}

// The instructor picks a side and splits the network: the messages across
// the cut stop, those within a side go on, the page's counters and
// diagram show the drops, and healing lets messages through again.
func TestClickingAPartitionStopsMessagesAcrossTheCut(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	screenshot(t, ctx, "dashboard-running")
	droppedBefore := counter(t, ctx, "dropped")

	split := s.expect(changed(netsim.EventPartition))
	do(t, ctx, chromedp.Click(chromedp.CSS(`button.chip[data-node="a"]`)), chromedp.Click(chromedp.ID("split")))
	split.wait(t, "the partition")
	assert.Equal(t, [][]string{{"a"}}, s.net.State().Groups)
	deliveredAtCut := s.net.LinkStats("a", "b").Delivered

	// Pings a -> b are dropped for the partition, b -> c still arrive.
	for range 5 {
		s.expect(dropped("a", "b", netsim.ReasonPartition)).wait(t, "a drop from a to b")
		s.expect(linkEvent(netsim.EventDeliver, "b", "c")).wait(t, "a delivery from b to c")
	}
	assert.Equal(t, deliveredAtCut, s.net.LinkStats("a", "b").Delivered, "nothing crosses the cut")
	assert.Zero(t, s.net.LinkStats("b", "a").Delivered-s.net.LinkStats("b", "a").Delivered)

	// The page says so: its counters move, the reason shows, the diagram
	// has dropped arrows from a to b, and a's side is drawn apart.
	waitFor(t, ctx, fmt.Sprintf(`Number(document.getElementById("dropped").textContent) > %d`, droppedBefore+5))
	waitFor(t, ctx, `document.getElementById("reasons").textContent.includes("partition")`)
	waitFor(t, ctx, `document.querySelectorAll('#spacetime line.m.dropped[data-from="a"][data-to="b"]').length > 0`)
	waitFor(t, ctx, `document.querySelector('g.node[data-node="a"]').classList.contains("side1")`)
	waitFor(t, ctx, `[...document.querySelectorAll("#narration li")].some(li => li.textContent.includes("partition {a}"))`)
	screenshot(t, ctx, "dashboard-partitioned")

	heal := s.expect(changed(netsim.EventHeal))
	do(t, ctx, chromedp.Click(chromedp.ID("heal")))
	heal.wait(t, "the heal")
	s.expect(linkEvent(netsim.EventDeliver, "a", "b")).wait(t, "a delivery from a to b after the heal")
	assert.Greater(t, s.net.LinkStats("a", "b").Delivered, deliveredAtCut)
}

// Clicking the arrow of a link cuts that one direction: a's pings to b
// are lost, b's to a still arrive. Clicking it again heals it.
func TestClickingAnArrowCutsOneDirection(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	arrow := chromedp.CSS(`line.hit[data-from="a"][data-to="b"]`)

	cut := s.expect(changed(netsim.EventCutLink))
	do(t, ctx, chromedp.Click(arrow))
	cut.wait(t, "the cut")
	s.expect(dropped("a", "b", netsim.ReasonPartition)).wait(t, "a drop from a to b")
	s.expect(linkEvent(netsim.EventDeliver, "b", "a")).wait(t, "a delivery from b to a: the other direction")
	waitFor(t, ctx, `document.querySelector('line.hit[data-from="a"][data-to="b"] + line').classList.contains("cut")`)

	healed := s.expect(changed(netsim.EventHealLink))
	do(t, ctx, chromedp.Click(arrow))
	healed.wait(t, "the heal")
	s.expect(linkEvent(netsim.EventDeliver, "a", "b")).wait(t, "a delivery from a to b")
}

// Clicking a node crashes it, and clicking it again restarts it.
func TestClickingANodeCrashesAndRestartsIt(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	node := chromedp.CSS(`g.node[data-node="c"] circle`)

	crash := s.expect(changed(netsim.EventCrash))
	do(t, ctx, chromedp.Click(node))
	crash.wait(t, "the crash")
	s.expect(dropped("a", "c", netsim.ReasonCrash)).wait(t, "a ping to the crashed node lost")
	waitFor(t, ctx, `document.querySelector('g.node[data-node="c"]').classList.contains("crashed")`)
	screenshot(t, ctx, "dashboard-crashed")

	restart := s.expect(changed(netsim.EventRestart))
	do(t, ctx, chromedp.Click(node))
	restart.wait(t, "the restart")
	waitFor(t, ctx, `!document.querySelector('g.node[data-node="c"]').classList.contains("crashed")`)
}

// Pause holds every message; Step lets exactly one through; Resume lets
// them all go.
func TestPauseStepAndResume(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	hold := s.expect(changed(netsim.EventHold))
	do(t, ctx, chromedp.Click(chromedp.ID("pause")))
	hold.wait(t, "the pause")
	waitFor(t, ctx, `Number(document.getElementById("held").textContent) > 3`)

	delivered := s.expect(func(e netsim.Event) bool { return e.Kind == netsim.EventDeliver })
	do(t, ctx, chromedp.Click(chromedp.ID("step")))
	delivered.wait(t, "the message Step let through")

	resume := s.expect(changed(netsim.EventResume))
	do(t, ctx, chromedp.Click(chromedp.ID("resume")))
	resume.wait(t, "the resume")
	assert.False(t, s.net.State().Holding)
	assert.Zero(t, s.net.State().Held)
}

// A request the server refuses shows its reason on the page.
func TestRefusedRequestShowsWhy(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	do(t, ctx, chromedp.Click(chromedp.ID("split")))
	waitFor(t, ctx, `document.getElementById("error").textContent.includes("pick the nodes of one side first")`)
	eval[any](t, ctx, `post("api/crash", {node: "zed"})`)
	waitFor(t, ctx, `document.getElementById("error").textContent.includes('unknown node "zed"')`)
}

// The page fits a projector 1400 pixels wide, without scrolling sideways.
func TestPageFitsAProjector(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	assert.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollWidth`), 1400)
	assert.LessOrEqual(t, eval[int](t, ctx, `document.documentElement.scrollHeight`), 1100, "it fits a screen, near enough")
}

// The page needs nothing from outside: every resource it loads comes from
// the dashboard.
func TestPageLoadsNothingFromOutside(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	outside := eval[[]string](t, ctx, fmt.Sprintf(
		`performance.getEntriesByType("resource").map(e => e.name).filter(n => !n.startsWith(%q))`, s.srv.URL))
	assert.Empty(t, outside)
	resp, err := http.Get(s.srv.URL + "/api/export")
	require.NoError(t, err)
	defer resp.Body.Close()
	src, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(src), "func TestReplayDashboardSession")
}

// Choosing a link in the faults menu and moving a slider sets the faults
// of that one direction, without cutting it.
func TestSlidersSetTheFaultsOfTheChosenLink(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	faults := s.expect(changed(netsim.EventFaults))
	do(t, ctx,
		chromedp.SetValue(chromedp.ID("faultslink"), `["a","b"]`),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("faultslink").dispatchEvent(new Event("change"))`),
		chromedp.SetValue(chromedp.ID("drop"), "40"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("drop").dispatchEvent(new Event("change"))`))
	faults.wait(t, "the new faults")
	for _, l := range s.net.State().Links {
		switch {
		case l.From == "a" && l.To == "b":
			assert.InDelta(t, 0.4, l.Faults.Drop, 1e-9)
			assert.True(t, l.OwnFaults)
			assert.False(t, l.Cut, "choosing a link does not cut it")
		default:
			assert.Zero(t, l.Faults.Drop, "%s -> %s", l.From, l.To)
		}
	}
	s.expect(dropped("a", "b", netsim.ReasonFault)).wait(t, "a drop from a to b, by the faults")
	waitFor(t, ctx, `document.querySelector('line.hit[data-from="a"][data-to="b"] + line').classList.contains("faulty")`)
}
