package trace_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/tracesim"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// simCluster is a traced netsim network of named nodes, fully connected:
// conns[i][j] is node i's conn to node j.
type simCluster struct {
	net   *netsim.Network
	rec   *trace.Recorder
	nodes []*trace.Node
	conns [][]*trace.Conn
}

// newSimCluster makes the network (inside the caller's synctest bubble,
// if any) with the recorder watching its drops, and connects every pair of
// nodes: the lower-numbered one dials. Close it with close.
func newSimCluster(t *testing.T, seed int64, names ...string) *simCluster {
	t.Helper()
	ctx := context.Background()
	rec := trace.NewRecorder()
	c := &simCluster{
		net: netsim.NewNetwork(seed, netsim.WithObserver(tracesim.Observer(rec))),
		rec: rec,
	}
	c.net.LogSeedOnFailure(t)
	rec.WriteOnFailure(t, seed)
	listeners := make([]*trace.Listener, len(names))
	for i, name := range names {
		c.nodes = append(c.nodes, rec.Node(name))
		l, err := c.net.Listen(name)
		require.NoError(t, err)
		listeners[i] = c.nodes[i].WrapListener(l)
		c.conns = append(c.conns, make([]*trace.Conn, len(names)))
	}
	for i := range names {
		for j := i + 1; j < len(names); j++ {
			d, err := c.nodes[i].WrapDialer(c.net.Dialer(names[i])).Dial(ctx, names[j])
			require.NoError(t, err)
			a, err := listeners[j].Accept(ctx)
			require.NoError(t, err)
			c.conns[i][j], c.conns[j][i] = d.(*trace.Conn), a.(*trace.Conn)
		}
	}
	for _, l := range listeners {
		require.NoError(t, l.Close())
	}
	return c
}

func (c *simCluster) close() { _ = c.net.Close() }

// TestHappensBeforeOverNetsimWithPartition: a message lost to a partition
// has no receive, is marked dropped with its reason, and still happens
// before everything its sender did next.
//
//	a              b              c
//	a1 --m0--X     |              |      (a and b cut off from c)
//	a2 --m1------> b1             |
//	|              b2 --m2------> c1     (healed)
//	a3 <-----------|-------m3---- c2
func TestHappensBeforeOverNetsimWithPartition(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newSimCluster(t, 7, "a", "b", "c")
		defer c.close()
		const a, b, cc = 0, 1, 2

		c.net.Partition([]string{"a", "b"}, []string{"c"})
		send(t, c.conns[a][cc], "m0")
		send(t, c.conns[a][b], "m1")
		recv(t, c.conns[b][a], "m1")
		c.net.Heal()
		send(t, c.conns[b][cc], "m2")
		recv(t, c.conns[cc][b], "m2")
		send(t, c.conns[cc][a], "m3")
		recv(t, c.conns[a][cc], "m3")

		events := c.rec.Events()
		byClock := map[string]trace.Event{}
		var drops []trace.Event
		for _, e := range events {
			if e.Kind == trace.KindDrop {
				drops = append(drops, e)
			}
			if isProcessEvent(e) {
				byClock[e.Clock.String()] = e
			}
		}
		want := map[string]trace.VectorClock{
			"a1": {"a": 1}, "a2": {"a": 2}, "b1": {"a": 2, "b": 1}, "b2": {"a": 2, "b": 2},
			"c1": {"a": 2, "b": 2, "c": 1}, "c2": {"a": 2, "b": 2, "c": 2}, "a3": {"a": 3, "b": 2, "c": 2},
		}
		require.Len(t, byClock, len(want), "events: %v", events)
		ev := map[string]trace.Event{}
		for name, clock := range want {
			e, ok := byClock[clock.String()]
			require.True(t, ok, "no event %s with clock %v", name, clock)
			ev[name] = e
		}
		assert.Equal(t, trace.KindSend, ev["a1"].Kind, "a1 is m0's send")
		assert.Equal(t, "c", ev["a1"].Peer)
		require.Len(t, drops, 1)
		m, _ := drops[0].Message()
		assert.Equal(t, trace.MessageID{From: "a", N: 1}, m)
		assert.Equal(t, "c", drops[0].Peer)
		assert.Equal(t, "dropped by netsim: partition", drops[0].Note)

		// The exchange is one causal chain, a1 a2 b1 b2 c1 c2 a3: the
		// lost send still comes before everything a did next, and
		// through a, everything after.
		chain := []string{"a1", "a2", "b1", "b2", "c1", "c2", "a3"}
		var hb [][2]string
		for i := range chain {
			for j := i + 1; j < len(chain); j++ {
				hb = append(hb, [2]string{chain[i], chain[j]})
			}
		}
		for _, p := range hb {
			assert.True(t, ev[p[0]].HappensBefore(ev[p[1]]), "%s -> %s", p[0], p[1])
			assert.False(t, ev[p[1]].HappensBefore(ev[p[0]]), "not %s -> %s", p[1], p[0])
		}
		requireClocksMatchCausality(t, events)
		_, root := requireValidHTML(t, events)
		assert.Equal(t, 1, len(viewOf(t, root, "causal", "full").find("g", "drop")), "the red cross of m0")
	})
}

// TestClocksMatchCausalityOverLossyNetsim runs random exchanges over a
// netsim network that drops, duplicates and reorders, and checks that the
// clocks agree with causality and that every loss is in the trace.
func TestClocksMatchCausalityOverLossyNetsim(t *testing.T) {
	for _, seed := range []int64{1, 2, 3} {
		synctest.Test(t, func(t *testing.T) {
			names := []string{"a", "b", "c"}
			c := newSimCluster(t, seed, names...)
			defer c.close()
			require.NoError(t, c.net.SetDefaultFaults(transport.Faults{
				Drop: 0.2, Duplicate: 0.1, Reorder: 0.3, Jitter: time.Millisecond,
			}))
			rng := rand.New(rand.NewPCG(uint64(seed), 5))
			takeIn := func(conn *trace.Conn) {
				for {
					ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
					_, err := conn.Recv(ctx)
					cancel()
					if errors.Is(err, context.DeadlineExceeded) {
						return
					}
					require.NoError(t, err)
				}
			}
			for step := range 80 {
				i := rng.IntN(3)
				j := (i + 1 + rng.IntN(2)) % 3
				switch r := rng.IntN(8); {
				case r < 2:
					c.nodes[i].Logf("step %d", step)
				case r < 6:
					send(t, c.conns[i][j], "step")
				default:
					takeIn(c.conns[i][j])
				}
			}
			time.Sleep(time.Second) // virtual: everything in flight lands or is lost
			for i := range names {
				for j := range names {
					if i != j {
						takeIn(c.conns[i][j])
					}
				}
			}

			events := c.rec.Events()
			requireClocksMatchCausality(t, events)
			var stats netsim.Counts
			for _, n := range names {
				s := c.net.NodeStats(n).Out
				stats.Dropped += s.Dropped
				stats.Delivered += s.Delivered
				stats.Duplicated += s.Duplicated
			}
			require.Positive(t, stats.Dropped, "the faults dropped nothing")
			require.Positive(t, stats.Duplicated, "the faults duplicated nothing")
			var receives, drops int64
			for _, e := range events {
				switch e.Kind {
				case trace.KindReceive:
					receives++
				case trace.KindDrop:
					drops++
				}
			}
			assert.Equal(t, stats.Delivered, receives, "one receive per delivered copy")
			assert.Equal(t, stats.Dropped, drops, "one drop event per lost copy")
			_, root := requireValidHTML(t, events)
			assert.Empty(t, root.find("g", "lost"), "every loss reported: none only 'never received'")
		})
	}
}
