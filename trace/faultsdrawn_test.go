package trace_test

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/internal/shivizcheck"
)

// stamped returns the wire form of a message that rec's node from sends to
// to, as an rpc message carrying the stamp inside it would look: bytes
// before and after the stamp.
func stamped(t *testing.T, from *trace.Node, to, label string) []byte {
	t.Helper()
	_, stamp := from.RecordSend(to, label, []byte("args"))
	return append(append([]byte("rpc header\x00"), stamp...), "\x01body"...)
}

// faultyRun records a run with every kind of trouble, through the methods
// a network observer calls: a request dropped, retried and received; its
// reply resent from a cache after a duplicate request; a crash and a
// restart; a partition and a heal; a program's own discard.
func faultyRun(t *testing.T) *trace.Recorder {
	t.Helper()
	rec := trace.NewRecorder(trace.WithClock(fixedClock()), trace.WithTitle("faults"))
	c, s := rec.Node("client"), rec.Node("server")

	rec.Mark(trace.KindFaults, "every link: drop 30%")
	req := stamped(t, c, "server", "KV.Put")
	rec.Transmitted(req, "server")
	rec.Dropped(req, "server", "dropped by netsim: fault")
	rec.Transmitted(req, "server") // the retry
	rec.Arrived(req, "server")
	_, err := s.RecordReceive(req[len("rpc header\x00"):len(req)-len("\x01body")], []byte("args"))
	require.NoError(t, err)
	_, replyStamp := s.RecordSend("client", trace.ReplyLabel("KV.Put"), []byte("ok"))
	reply := append([]byte("rpc reply\x00"), replyStamp...)
	rec.Transmitted(reply, "client")
	rec.Dropped(reply, "client", "dropped by netsim: fault")
	rec.Transmitted(req, "server") // another retry
	rec.Arrived(req, "server")     // a copy the server had: not run again
	rec.Transmitted(reply, "client")
	rec.Arrived(reply, "client")
	_, err = c.RecordReceive(replyStamp, []byte("ok"))
	require.NoError(t, err)

	rec.Mark(trace.KindPartition, "{client} | {server}")
	c.Discard("server", "Chat.Say", []byte("hello"), "queue full")
	rec.Mark(trace.KindHeal, "every link")
	s.Crashed()
	s.Restarted()
	s.Log("recovered")
	return rec
}

func TestTheDiagramShowsWhatWentWrong(t *testing.T) {
	t.Parallel()
	rec := faultyRun(t)
	events := rec.Events()
	var page bytes.Buffer
	require.NoError(t, rec.WriteHTML(&page))
	_, root := checkPage(t, page.String(), events)
	for _, layout := range []string{"causal", "timed"} {
		v := viewOf(t, root, layout, "full")
		assert.Equal(t, 2, len(v.find("g", "drop")), "%s: both drops", layout)
		assert.Equal(t, []string{"fault", "fault"}, texts(v, "droplabel"), "%s: with their reason", layout)
		assert.Equal(t, 3, len(v.find("circle", "resend")), "%s: two retries and a cached reply", layout)
		assert.Equal(t, []string{"↻ retry", "↻ retry", "↻ cached reply"}, texts(v, "resendlabel"), layout)
		assert.Equal(t, 1, len(v.find("g", "again")), "%s: the copy the server did not run", layout)
		assert.Equal(t, 1, len(v.find("g", "discarded")), "%s: the program's own drop", layout)
		assert.Equal(t, 1, len(v.find("g", "crash")), layout)
		assert.Equal(t, 1, len(v.find("g", "restart")), layout)
		assert.Equal(t, 1, len(v.find("line", "down")), "%s: the line is grey while down", layout)
		assert.Equal(t, 1, len(v.find("g", "partition")), layout)
		assert.Equal(t, 1, len(v.find("g", "heal")), layout)
		assert.Equal(t, 1, len(v.find("g", "faults")), layout)
		assert.Contains(t, texts(v, "marklabel"), "partition: {client} | {server}", layout)
	}
	summary := root.find("p", "summary")[0].Text
	for _, want := range []string{"2 copies dropped (2 fault)", "2 retries", "1 reply resent from a reply cache",
		"1 extra copy arrived", "1 discarded by the program", "1 crash", "1 restart", "1 partition", "1 heal"} {
		assert.Contains(t, summary, want)
	}
}

// A receive is drawn from the last send or resend before it: the retry
// that got through, not the first attempt that was lost.
func TestArrowsStartAtTheAttemptThatGotThrough(t *testing.T) {
	t.Parallel()
	rec := faultyRun(t)
	_, root := checkPage(t, htmlOf(t, rec), rec.Events())
	for _, layout := range []string{"causal", "timed"} {
		v := viewOf(t, root, layout, "full")
		retry := v.find("circle", "resend")[0]
		arrow := v.find("line", "msg")[0] // the first receive: KV.Put at the server
		assert.InDelta(t, atoi(t, retry.attr("cx")), atoi(t, arrow.attr("x1")), dotSize, layout)
		assert.InDelta(t, atoi(t, retry.attr("cy")), atoi(t, arrow.attr("y1")), dotSize, layout)
	}
}

// dotSize is how far from a dot's centre an arrow that starts at its edge
// begins.
const dotSize = 8

func TestShiVizAcceptsEveryKindOfEvent(t *testing.T) {
	t.Parallel()
	var log bytes.Buffer
	require.NoError(t, trace.WriteShiViz(&log, faultyRun(t).Events()))
	events, err := shivizcheck.Check(log.String())
	require.NoError(t, err, log.String())
	var texts []string
	for _, e := range events {
		texts = append(texts, e.Host+": "+e.Text)
	}
	assert.Contains(t, texts, `client: resend "KV.Put" (4 bytes) to server (retry)`)
	assert.Contains(t, texts, `server: resend "KV.Put reply" (2 bytes) to client (reply cache)`)
	assert.Contains(t, texts, `client: discard "Chat.Say" (5 bytes) for server: queue full`)
	assert.Contains(t, texts, "server: crashed")
	assert.Contains(t, texts, "server: restarted")
	assert.Contains(t, texts, `client: send "KV.Put" (4 bytes) to server [lost: dropped by netsim: fault]`)
}

func TestShiVizAcceptsATraceCutByMaxEvents(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder(trace.WithMaxEvents(7))
	a, b := rec.Node("a"), rec.Node("b")
	for range 5 {
		_, stamp := a.RecordSend("b", "", nil)
		_, err := b.RecordReceive(stamp, nil)
		require.NoError(t, err)
		_, stamp = b.RecordSend("a", "", nil)
		_, err = a.RecordReceive(stamp, nil)
		require.NoError(t, err)
	}
	var log bytes.Buffer
	require.NoError(t, trace.WriteShiViz(&log, rec.Events()))
	_, err := shivizcheck.Check(log.String())
	require.NoError(t, err)
}

func TestMarkRefusesAnEventOfAProcess(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	assert.PanicsWithValue(t, "trace: Mark of kind send", func() { rec.Mark(trace.KindSend, "x") })
	e := rec.Mark(trace.KindHeal, "all")
	assert.Equal(t, "heal: all", e.String())
	assert.False(t, e.HappensBefore(e), "a mark has no clock")
}

func TestOmittedEventsAreNotedOnThePage(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder(trace.WithMaxEvents(2))
	a := rec.Node("a")
	for range 5 {
		a.Log("tick")
	}
	page := htmlOf(t, rec)
	assert.True(t, strings.Contains(page, "3 events after these were left out (WithMaxEvents)"), "the page says so")
	var plain bytes.Buffer
	require.NoError(t, trace.WriteHTML(&plain, "x", rec.Events()))
	assert.False(t, strings.Contains(plain.String(), "left out"), "the package function does not know")
}

func TestRoutineMessagesAreCollapsedByDefault(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder(trace.WithRoutine("Coordinator.GetTask"))
	leader, follower := rec.Node("leader"), rec.Node("follower")
	exchange := func(label string) {
		_, stamp := leader.RecordSend("follower", label, nil)
		_, err := follower.RecordReceive(stamp, nil)
		require.NoError(t, err)
		_, stamp = follower.RecordSend("leader", trace.ReplyLabel(label), nil)
		_, err = leader.RecordReceive(stamp, nil)
		require.NoError(t, err)
	}
	for range 4 {
		exchange("Raft.Heartbeat")
	}
	exchange("Coordinator.GetTask")
	exchange("KV.Put")
	page := htmlOf(t, rec)
	_, root := checkPage(t, page, rec.Events())
	assert.True(t, strings.Contains(page, "10 routine messages (heartbeats, polls) are hidden"), "the page says so")
	assert.True(t, strings.Contains(page, "show routine messages (10)"), "a box shows them")
	collapsed, full := viewOf(t, root, "causal", "collapsed"), viewOf(t, root, "causal", "full")
	assert.Equal(t, []string{"KV.Put", "KV.Put reply"}, texts(collapsed, "msglabel"))
	assert.Equal(t, 12, len(full.find("line", "msg")))
	assert.Less(t, height(t, collapsed), height(t, full), "the collapsed view is shorter")
}

func TestLanesAreGroupedAndInNaturalOrder(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	for _, name := range []string{"client-10", "server", "client-2", "worker", "client-1"} {
		rec.Node(name).Log("hello")
	}
	_, root := checkPage(t, htmlOf(t, rec), rec.Events())
	v := viewOf(t, root, "causal", "full")
	assert.Equal(t, []string{"client-1", "client-2", "client-10", "server", "worker"}, texts(v, "lanename"))
	assert.Equal(t, []string{"client"}, texts(v, "groupname"), "one header over the group of three")
}

func TestManyLanesStillFitAProjector(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	var prev *trace.Node
	for i := range 12 {
		n := rec.Node("replica-" + strings.Repeat("x", i))
		if prev != nil {
			_, stamp := prev.RecordSend(n.Name(), "Raft.RequestVote with a long label", nil)
			_, err := n.RecordReceive(stamp, nil)
			require.NoError(t, err)
		}
		prev = n
	}
	checkPage(t, htmlOf(t, rec), rec.Events()) // checks every view's width
}

func TestTimedViewFollowsTheClock(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := trace.NewRecorder(trace.WithClock(func() time.Time { return now }))
	a, b := rec.Node("a"), rec.Node("b")
	a.Log("start")
	now = now.Add(time.Second)
	b.Log("a second later")
	now = now.Add(time.Minute)
	a.Log("a minute later")
	_, root := checkPage(t, htmlOf(t, rec), rec.Events())
	v := viewOf(t, root, "timed", "full")
	ticks := texts(v, "tick")
	assert.Contains(t, ticks, "+0s")
	assert.Contains(t, ticks, "⋮ 1m0s idle", "the long gap is cut short, and says so")
}

func htmlOf(t *testing.T, rec *trace.Recorder) string {
	t.Helper()
	var page bytes.Buffer
	require.NoError(t, rec.WriteHTML(&page))
	return page.String()
}

func height(t *testing.T, v element) int {
	t.Helper()
	return atoi(t, v.attr("height"))
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func TestEveryKindRoundTripsThroughJSON(t *testing.T) {
	t.Parallel()
	events := faultyRun(t).Events()
	var buf bytes.Buffer
	require.NoError(t, trace.WriteJSON(&buf, events))
	back, err := trace.ReadJSON(&buf)
	require.NoError(t, err)
	require.Len(t, back, len(events))
	for i := range events {
		assert.Equal(t, events[i].String(), back[i].String())
		assert.True(t, events[i].Time.Equal(back[i].Time))
	}
}

// Merging keeps each note (a drop, a duplicate, a mark) behind the event
// it followed in its own trace.
func TestMergeKeepsNotesInPlace(t *testing.T) {
	t.Parallel()
	events := faultyRun(t).Events()
	merged := trace.MergeTraces(events)
	require.Len(t, merged, len(events))
	position := map[string]int{}
	for i, e := range merged {
		position[e.String()+e.Time.String()] = i
	}
	key := func(e trace.Event) string { return e.String() + e.Time.String() }
	for i := 1; i < len(events); i++ {
		if events[i].Kind == trace.KindSend || events[i].Kind == trace.KindReceive || events[i].Kind == trace.KindResend {
			continue
		}
		if events[i-1].Kind == trace.KindSend || events[i-1].Kind == trace.KindResend {
			assert.Less(t, position[key(events[i-1])], position[key(events[i])], "%v after %v", events[i], events[i-1])
		}
	}
	assert.Less(t, position[key(events[len(events)-5])], position[key(events[len(events)-4])], "the heal after the discard")
}
