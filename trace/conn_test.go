package trace_test

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/transporttest"
)

// conformanceMax is the message size limit of the traced conns in the
// conformance suite; the conns below them allow room for the header.
const conformanceMax = 64 << 10

// limitConn refuses messages above max before they reach a traced conn.
// A traced conn's own limit is its wrapped conn's minus the header, which
// varies with the clock; the suite wants an exact one.
type limitConn struct {
	transport.Conn
	max int
}

func (c limitConn) Send(ctx context.Context, msg []byte) error {
	if len(msg) > c.max {
		return fmt.Errorf("%w: %d bytes", transport.ErrMessageTooLarge, len(msg))
	}
	return c.Conn.Send(ctx, msg)
}

func TestConnConformance(t *testing.T) {
	transporttest.TestConn(t, transporttest.ConnConfig{
		MakePipe: func(t *testing.T) (a, b transport.Conn) {
			rec := trace.NewRecorder(trace.WithMaxEvents(1000)) // the suite sends many messages
			x, y := net.Pipe()
			opt := transport.WithMaxMessageSize(conformanceMax + 1024)
			ta := rec.Node("a").Wrap(transport.NewConn(x, opt))
			tb := rec.Node("b").Wrap(transport.NewConn(y, opt))
			t.Cleanup(func() { ta.Close(); tb.Close() })
			return limitConn{ta, conformanceMax}, limitConn{tb, conformanceMax}
		},
		MaxMessageSize: conformanceMax,
	})
}

func TestRecvOfUntracedMessageIsAnError(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	x, y := net.Pipe()
	plain := transport.NewConn(x, transport.WithLinger(-1))
	defer plain.Close()
	traced := trace.NewRecorder().Node("b").Wrap(transport.NewConn(y, transport.WithLinger(-1)))
	defer traced.Close()

	require.NoError(t, plain.Send(ctx, []byte("hello, unwrapped")))
	_, err := traced.Recv(ctx)
	require.ErrorIs(t, err, trace.ErrNotTraced)
	assert.Contains(t, err.Error(), "wrapped")

	// The conn is still usable.
	require.NoError(t, traced.Send(ctx, []byte("ping")))
	got, err := plain.Recv(ctx)
	require.NoError(t, err)
	assert.Greater(t, len(got), len("ping"), "the traced side adds its header")
}

func TestRecvOfDamagedHeaderIsAnError(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	x, y := net.Pipe()
	plain := transport.NewConn(x, transport.WithLinger(-1))
	defer plain.Close()
	traced := trace.NewRecorder().Node("b").Wrap(transport.NewConn(y, transport.WithLinger(-1)))
	defer traced.Close()

	for _, msg := range []string{
		"\xd5tr",                           // magic only
		"\xd5tr\x02",                       // unknown version
		"\xd5tr\x01\x01a\x00\x05",          // clock entries missing
		"\xd5tr\x01\x01a\x00\x01\x01b\x01", // sender not in its own clock
		"\xd5tr\x01\xff\xff\xff\xff\x0f",   // a name of 4 GB
	} {
		require.NoError(t, plain.Send(ctx, []byte(msg)))
		_, err := traced.Recv(ctx)
		require.ErrorIs(t, err, trace.ErrBadHeader, "%q", msg)
	}
}

func TestLabelTravelsWithMessage(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	l := newLink(t, rec.Node("client"), rec.Node("server"), transport.Faults{}, transport.Faults{})
	defer l.close()
	ctx := trace.ContextWithLabel(context.Background(), "KV.Get")
	require.NoError(t, l.ab.Send(ctx, []byte("key")))
	recv(t, l.ba, "key")

	events := rec.Events()
	require.Len(t, events, 2)
	for _, e := range events {
		assert.Equal(t, "KV.Get", e.Label, "%v", e)
		assert.Equal(t, 3, e.Size)
		assert.Equal(t, `"key"`, e.Data)
	}
	assert.Equal(t, "server", events[0].Peer, "the send names its receiver once the message is received")
	assert.Equal(t, "client", events[1].Peer)
	assert.Equal(t, "server", l.ba.Node().Name())
	assert.Equal(t, "client", l.ba.Peer())
}

func TestFailedSendIsRecordedAsDrop(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	l := newLink(t, rec.Node("a"), rec.Node("b"), transport.Faults{}, transport.Faults{})
	l.close()
	require.ErrorIs(t, l.ab.Send(context.Background(), []byte("too late")), transport.ErrClosed)

	events := rec.Events()
	require.Len(t, events, 2)
	assert.Equal(t, trace.KindSend, events[0].Kind)
	assert.Equal(t, trace.KindDrop, events[1].Kind)
	assert.Contains(t, events[1].Note, "send failed")
	assert.Equal(t, events[0].Clock, events[1].Clock, "a drop carries its send's clock")
}

func TestSendWithDoneContextRecordsNothing(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	l := newLink(t, rec.Node("a"), rec.Node("b"), transport.Faults{}, transport.Faults{})
	defer l.close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, l.ab.Send(ctx, []byte("x")), context.Canceled)
	assert.Empty(t, rec.Events())
}

func TestListenerAndDialerTraceOverTCP(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	rec := trace.NewRecorder()
	server, client := rec.Node("server"), rec.Node("client")

	inner, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(t, err)
	l := server.WrapListener(inner)
	defer l.Close()
	require.Equal(t, inner.Addr(), l.Addr())

	type result struct {
		c   transport.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept(ctx)
		accepted <- result{c, err}
	}()
	addr := l.Addr().String()
	c, err := client.WrapDialer(transport.NewTCPDialer()).Dial(ctx, addr)
	require.NoError(t, err)
	defer c.Close()
	r := <-accepted
	require.NoError(t, r.err)
	defer r.c.Close()
	assert.Equal(t, addr, c.(*trace.Conn).Peer(), "named by the address dialed until heard from")

	require.NoError(t, c.Send(ctx, []byte("ping")))
	got, err := r.c.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "ping", string(got))
	require.NoError(t, r.c.Send(ctx, []byte("pong")))
	got, err = c.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, "pong", string(got))

	events := rec.Events()
	require.Len(t, events, 4)
	assert.True(t, events[0].HappensBefore(events[3]), "ping's send before pong's receive")
	assert.Equal(t, trace.VectorClock{"client": 2, "server": 2}, events[3].Clock)
	assert.Equal(t, "server", c.(*trace.Conn).Peer())

	require.NoError(t, l.Close())
	_, err = l.Accept(ctx)
	require.ErrorIs(t, err, transport.ErrClosed)
	_, err = client.WrapDialer(transport.NewTCPDialer()).Dial(ctx, addr)
	require.Error(t, err, "dialing a closed listener")
}

// Messages that travel outside a traced conn (a UDP datagram, rpc metadata)
// are traced by hand with RecordSend and RecordReceive.
func TestRecordSendAndReceiveByHand(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	a, b := rec.Node("a"), rec.Node("b")
	sent, stamp := a.RecordSend("b", "Ping", []byte("ping"))
	got, err := b.RecordReceive(stamp, []byte("ping"))
	require.NoError(t, err)
	assert.True(t, sent.HappensBefore(got))
	assert.Equal(t, "Ping", got.Label)
	assert.Equal(t, "a", got.Peer)

	_, err = b.RecordReceive([]byte("no stamp"), nil)
	require.ErrorIs(t, err, trace.ErrNotTraced)
	_, err = b.RecordReceive(append(stamp, 'x'), nil)
	require.ErrorIs(t, err, trace.ErrBadHeader)
	assert.Len(t, rec.Events(), 2, "bad stamps record nothing")
}
