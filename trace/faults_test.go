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
	"github.com/distsys-kit/distsys/transport"
)

// faultStats adds up what the faults did on every link.
type faultStats struct{ delivered, dropped, duplicated, reordered int64 }

// runRandomExchange plays a random exchange, drawn from seed, between
// three nodes on links that drop, duplicate and reorder messages. Nodes log,
// send to each other and, now and then, take in what has arrived, so that
// later sends carry what earlier receives taught them. It runs inside a
// synctest bubble: the links' delays are virtual time.
func runRandomExchange(t *testing.T, seed int64) ([]trace.Event, faultStats) {
	rng := rand.New(rand.NewPCG(uint64(seed), 99))
	faults := func(k int64) transport.Faults {
		return transport.Faults{Drop: 0.2, Duplicate: 0.1, Reorder: 0.3, Jitter: time.Millisecond, Seed: seed*10 + k}
	}
	rec := trace.NewRecorder()
	names := []string{"a", "b", "c"}
	var nodes []*trace.Node
	for _, n := range names {
		nodes = append(nodes, rec.Node(n))
	}
	// ends[i][j] is node i's conn to node j.
	ends := make([][]*trace.Conn, 3)
	for i := range ends {
		ends[i] = make([]*trace.Conn, 3)
	}
	var links []*link
	for i := range 3 {
		for j := i + 1; j < 3; j++ {
			l := newLink(t, nodes[i], nodes[j], faults(int64(i*3+j)), faults(int64(j*3+i)))
			ends[i][j], ends[j][i] = l.ab, l.ba
			links = append(links, l)
		}
	}
	defer func() {
		for _, l := range links {
			l.close()
		}
	}()

	// takeIn receives on c whatever arrives within a millisecond.
	takeIn := func(c *trace.Conn) {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			_, err := c.Recv(ctx)
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
			nodes[i].Logf("step %d", step)
		case r < 6:
			send(t, ends[i][j], "step")
		default:
			takeIn(ends[i][j])
		}
	}
	time.Sleep(time.Second) // virtual: every delayed message is now sent
	for i := range 3 {
		for j := range 3 {
			if i != j {
				takeIn(ends[i][j])
			}
		}
	}
	var st faultStats
	for _, l := range links {
		for _, s := range []transport.FaultStats{l.fab.Stats(), l.fba.Stats()} {
			st.delivered += s.Delivered
			st.dropped += s.Dropped
			st.duplicated += s.Duplicated
			st.reordered += s.Reordered
		}
	}
	return rec.Events(), st
}

func TestClocksMatchCausalityUnderDropsAndReordering(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 4} {
		synctest.Test(t, func(t *testing.T) {
			events, st := runRandomExchange(t, seed)
			requireClocksMatchCausality(t, events)

			// The faults really struck, and the trace shows what they did.
			require.Positive(t, st.dropped, "seed %d: no drop", seed)
			require.Positive(t, st.reordered, "seed %d: no reordering", seed)
			received := map[trace.MessageID]int{}
			var sends, receives, inversions int
			lastFrom := map[[2]string]uint64{} // (receiver, sender) -> last message number received
			for _, e := range events {
				m, _ := e.Message()
				switch e.Kind {
				case trace.KindSend:
					sends++
				case trace.KindReceive:
					receives++
					received[m]++
					key := [2]string{e.Node, e.Peer}
					if e.Msg < lastFrom[key] {
						inversions++
					}
					lastFrom[key] = max(lastFrom[key], e.Msg)
				}
			}
			assert.Equal(t, st.delivered, int64(receives), "seed %d: one receive per delivered copy", seed)
			assert.Equal(t, int64(sends)-st.dropped, int64(len(received)), "seed %d: every message but the dropped ones received", seed)
			assert.Positive(t, inversions, "seed %d: reordering visible in the trace", seed)
		})
	}
}
