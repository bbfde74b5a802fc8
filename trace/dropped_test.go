package trace_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

// reportingConn is a lossy network that tells what it lost, as netsim's
// observer does: it drops every other message and reports it to the
// recorder.
type reportingConn struct {
	transport.Conn
	rec  *trace.Recorder
	to   string
	sent int
}

func (c *reportingConn) Send(ctx context.Context, msg []byte) error {
	c.sent++
	if c.sent%2 == 0 {
		c.rec.Dropped(msg, c.to, "dropped by the test network")
		return nil
	}
	return c.Conn.Send(ctx, msg)
}

func TestDroppedMessagesAreMarked(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	a, b := rec.Node("a"), rec.Node("b")
	l := newLink(t, a, b, transport.Faults{}, transport.Faults{})
	defer l.close()
	// Put the reporting network between a's traced conn and the wire.
	lossy := a.Wrap(&reportingConn{Conn: l.fab, rec: rec, to: "b"})

	for _, m := range []string{"one", "two", "three", "four"} {
		send(t, lossy, m)
	}
	recv(t, l.ba, "one")
	recv(t, l.ba, "three")

	events := rec.Events()
	var drops []trace.Event
	for _, e := range events {
		if e.Kind == trace.KindDrop {
			drops = append(drops, e)
		}
	}
	require.Len(t, drops, 2)
	for i, d := range drops {
		m, _ := d.Message()
		assert.Equal(t, trace.MessageID{From: "a", N: uint64(2 * (i + 1))}, m, "the 2nd and 4th sends")
		assert.Equal(t, "b", d.Peer)
		assert.Equal(t, "dropped by the test network", d.Note)
	}
	requireClocksMatchCausality(t, events)
	_, root := requireValidHTML(t, events)
	assert.Equal(t, 2, len(viewOf(t, root, "causal", "full").find("g", "drop")), "two red crosses")

	// What is not a traced message is not a drop.
	rec.Dropped([]byte("plain"), "b", "x")
	rec.Dropped([]byte("\xd5tr\x01garbage"), "b", "x")
	assert.Len(t, rec.Events(), len(events))
}
