package trace

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// busyRun is a crowded recording: five nodes exchanging labelled
// messages at random, with drops, resends, local events and marks.
func busyRun(t *testing.T, seed uint64) []Event {
	t.Helper()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(seed, 1))
	rec := NewRecorder(WithClock(func() time.Time {
		now = now.Add(time.Duration(rng.IntN(3000)) * time.Microsecond)
		return now
	}))
	names := []string{"client-1", "client-2", "primary", "backup", "witness"}
	for i := range 150 {
		from := rec.Node(names[rng.IntN(len(names))])
		to := names[rng.IntN(len(names))]
		if to == from.Name() {
			from.Logf("step %d of a long computation", i)
			continue
		}
		msg := []byte("payload")
		_, stamp := from.RecordSend(to, fmt.Sprintf("Service.Method%d", i%7), msg)
		switch rng.IntN(6) {
		case 0:
			rec.Dropped(stamp, to, "dropped by netsim: fault")
		case 1:
			rec.Transmitted(stamp, to)
			rec.Transmitted(stamp, to)
			fallthrough
		default:
			_, err := rec.Node(to).RecordReceive(stamp, msg)
			require.NoError(t, err)
		}
		if i%40 == 39 {
			rec.Mark(KindPartition, "{client-1 primary} | {client-2 backup witness}")
		}
	}
	return rec.Events()
}

// No two labels of a view overlap, and no label covers a dot.
func TestLabelsDoNotOverlap(t *testing.T) {
	t.Parallel()
	for seed := range uint64(5) {
		p := newPage("busy", busyRun(t, seed), 0, nil)
		require.NotEmpty(t, p.Views)
		for _, v := range p.Views {
			var boxes []box
			for _, l := range v.Labels {
				for _, s := range l.Shapes {
					boxes = append(boxes, textBox(s.Text, s.X1, s.Y1, s.Anchor))
				}
			}
			var dots []box
			for _, it := range v.Items {
				for _, s := range it.Shapes {
					if s.Kind == "circle" {
						dots = append(dots, box{s.X1 - s.R, s.Y1 - s.R, s.X1 + s.R, s.Y1 + s.R})
					}
				}
			}
			assert.Greater(t, len(boxes), 20, "seed %d %s: the labels were placed", seed, v.Class)
			for i, a := range boxes {
				for _, b := range boxes[i+1:] {
					require.False(t, a.overlaps(b), "seed %d %s: labels %v and %v overlap", seed, v.Class, a, b)
				}
				for _, d := range dots {
					require.False(t, a.overlaps(d), "seed %d %s: label %v covers dot %v", seed, v.Class, a, d)
				}
			}
		}
	}
}

// In the timed view, events of one node go down the page in the order
// of their times, a receive is below its send, and a mark lies below
// what was recorded before it and above what came after.
func TestTimedViewKeepsOrder(t *testing.T) {
	t.Parallel()
	events := busyRun(t, 7)
	show := make([]bool, len(events))
	for i := range show {
		show[i] = true
	}
	y, _, _, ok := timedY(events, show)
	require.True(t, ok)
	last := map[string]int{}
	sent := map[MessageID]int{}
	for i, e := range events {
		switch {
		case e.Kind.network():
			for j := range i {
				if events[j].Kind.process() {
					assert.Greater(t, y[i], y[j], "mark %d below event %d", i, j)
				}
			}
			for j := i + 1; j < len(events); j++ {
				if events[j].Kind.process() {
					assert.Greater(t, y[j], y[i], "event %d below mark %d", j, i)
				}
			}
		case e.Kind.process():
			assert.Greater(t, y[i], last[e.Node], "event %d of %s", i, e.Node)
			last[e.Node] = y[i]
			m, _ := e.Message()
			if e.Kind == KindSend {
				sent[m] = y[i]
			}
			if s, ok := sent[m]; ok && e.Kind == KindReceive {
				assert.Greater(t, y[i], s, "receive %d below its send", i)
			}
		}
	}
}

func TestGroupOfAndNaturalOrder(t *testing.T) {
	t.Parallel()
	groups := map[string]string{
		"client-3": "client", "worker7": "worker", "server": "server", "42": "42",
		"node_10": "node", "a.b.1": "a.b", "raft #2": "raft",
	}
	for name, want := range groups {
		assert.Equal(t, want, groupOf(name), name)
	}
	less := [][2]string{{"n2", "n10"}, {"a", "b"}, {"client-9", "client-10"}, {"x1y2", "x1y10"}, {"a", "ab"}}
	for _, p := range less {
		assert.Negative(t, naturalCompare(p[0], p[1]), "%s < %s", p[0], p[1])
		assert.Positive(t, naturalCompare(p[1], p[0]), "%s > %s", p[1], p[0])
	}
	assert.Zero(t, naturalCompare("n007", "n7"), "equal numbers")
}

func TestLaneGapFitsThePage(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 12; n++ {
		width := marginLeft + (n-1)*laneGapFor(n) + marginRight
		assert.LessOrEqual(t, width, pageWidth, "%d lanes", n)
	}
	assert.Equal(t, minLaneGap, laneGapFor(40), "beyond twelve lanes the page scales")
}
