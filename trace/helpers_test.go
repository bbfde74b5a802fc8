package trace_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

// safetyTimeout bounds every wait, so a bug fails a test instead of hanging
// it. In a synctest bubble it is virtual time.
const safetyTimeout = 30 * time.Second

func testContext(tb testing.TB) context.Context {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
	tb.Cleanup(cancel)
	return ctx
}

// link is a traced connection between two nodes: ab is a's end, ba is b's.
// Each direction goes through a FaultyConn with its own faults.
type link struct {
	ab, ba   *trace.Conn
	fab, fba *transport.FaultyConn // a->b and b->a faults, for their Stats
}

// newLink connects nodes a and b over net.Pipe, framed by transport.NewConn,
// with faults fab on what a sends and fba on what b sends. The caller closes
// it with close.
func newLink(tb testing.TB, a, b *trace.Node, fab, fba transport.Faults) *link {
	tb.Helper()
	pa, pb := net.Pipe()
	opts := []transport.Option{transport.WithLinger(-1)} // tests close after the exchange
	ca, err := transport.NewFaultyConn(transport.NewConn(pa, opts...), fab)
	require.NoError(tb, err)
	cb, err := transport.NewFaultyConn(transport.NewConn(pb, opts...), fba)
	require.NoError(tb, err)
	return &link{ab: a.Wrap(ca), ba: b.Wrap(cb), fab: ca, fba: cb}
}

func (l *link) close() {
	_ = l.ab.Close()
	_ = l.ba.Close()
}

// send sends msg on c and fails the test on error.
func send(tb testing.TB, c *trace.Conn, msg string) {
	tb.Helper()
	require.NoError(tb, c.Send(context.Background(), []byte(msg)))
}

// recv receives one message on c and checks it is want.
func recv(tb testing.TB, c *trace.Conn, want string) {
	tb.Helper()
	got, err := c.Recv(testContext(tb))
	require.NoError(tb, err)
	require.Equal(tb, want, string(got))
}

// causality computes happens-before from the events themselves, without
// looking at clocks: e happens before f if a chain of program-order steps
// (consecutive events of one node) and message edges (a send to each of its
// receives) leads from e to f. It is Lamport's definition, and the ground
// truth the clocks must agree with. Notes (drops, duplicates, changes of
// the network) are left out: they are not events of a process.
func causality(events []trace.Event) (hb func(i, j int) bool) {
	n := len(events)
	reach := make([][]bool, n)
	for i := range reach {
		reach[i] = make([]bool, n)
	}
	last := map[string]int{}
	sends := map[trace.MessageID]int{}
	for i, e := range events {
		if !isProcessEvent(e) {
			continue
		}
		if p, ok := last[e.Node]; ok {
			reach[p][i] = true
		}
		last[e.Node] = i
		m, _ := e.Message()
		switch e.Kind {
		case trace.KindSend:
			sends[m] = i
		case trace.KindReceive:
			if s, ok := sends[m]; ok {
				reach[s][i] = true
			}
		}
	}
	// Every edge points forward in recording order, so going backwards,
	// each event's successors are complete before the event itself: it
	// reaches what they reach.
	for i := n - 1; i >= 0; i-- {
		for j := i + 1; j < n; j++ {
			if reach[i][j] {
				for k := j + 1; k < n; k++ {
					if reach[j][k] {
						reach[i][k] = true
					}
				}
			}
		}
	}
	return func(i, j int) bool { return reach[i][j] }
}

// requireClocksMatchCausality checks the vector clock theorem on a trace:
// for every two events e and f, e's clock is before f's exactly when e
// happens before f by Lamport's definition.
func requireClocksMatchCausality(tb testing.TB, events []trace.Event) {
	tb.Helper()
	hb := causality(events)
	for i, e := range events {
		for j, f := range events {
			if !isProcessEvent(e) || !isProcessEvent(f) {
				continue
			}
			require.Equal(tb, hb(i, j), e.HappensBefore(f),
				"event %d (%v %v) before event %d (%v %v)?", i, e, e.Clock, j, f, f.Clock)
		}
	}
}

// isProcessEvent reports whether e is an event of a process, which ticks
// its node's clock, rather than a note about the run.
func isProcessEvent(e trace.Event) bool {
	switch e.Kind {
	case trace.KindDrop, trace.KindDuplicate, trace.KindPartition, trace.KindHeal, trace.KindFaults:
		return false
	}
	return true
}
