package tracerpc_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/tracerpc"
	"github.com/distsys-kit/distsys/transport"
)

// Args are two numbers.
type Args struct{ A, B int }

// Reply is one number.
type Reply struct{ C int }

var errNegative = errors.New("arith: negative")

// Arith adds; with a backend, it asks the backend to do it.
type Arith struct {
	backend *rpc.Client
}

func (a *Arith) Add(ctx context.Context, args *Args, reply *Reply) error {
	if args.A < 0 {
		return errNegative
	}
	if a.backend != nil {
		return a.backend.Call(ctx, "Arith.Add", args, reply)
	}
	reply.C = args.A + args.B
	return nil
}

// serve starts an rpc server for node with the tracing interceptor and
// returns a client of it for the node client. Everything is closed at the
// end of the test.
func serve(t *testing.T, server, client *trace.Node, rcvr any) *rpc.Client {
	t.Helper()
	x, y := net.Pipe()
	srv := rpc.NewServer(rpc.WithServerInterceptor(tracerpc.ServerInterceptor(server)), rpc.WithErrors(errNegative))
	require.NoError(t, srv.Register(rcvr))
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeConn(transport.NewConn(x))
	}()
	cli := rpc.NewClient(transport.NewConn(y),
		rpc.WithClientInterceptor(tracerpc.ClientInterceptor(client, server.Name())), rpc.WithErrors(errNegative))
	t.Cleanup(func() {
		cli.Close()
		srv.Close()
		<-done
	})
	return cli
}

func TestCallIsTracedWithMethodNames(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	cli := serve(t, rec.Node("server"), rec.Node("client"), &Arith{})
	var reply Reply
	require.NoError(t, cli.Call(t.Context(), "Arith.Add", &Args{A: 2, B: 3}, &reply))
	require.Equal(t, 5, reply.C)

	events := rec.Events()
	require.Len(t, events, 4)
	want := []struct {
		node  string
		kind  trace.Kind
		label string
		data  string
	}{
		{"client", trace.KindSend, "Arith.Add", `"{A:2 B:3}"`},
		{"server", trace.KindReceive, "Arith.Add", `"{A:2 B:3}"`},
		{"server", trace.KindSend, "Arith.Add reply", `"{C:5}"`},
		{"client", trace.KindReceive, "Arith.Add reply", `"{C:5}"`},
	}
	for i, w := range want {
		e := events[i]
		assert.Equal(t, w.node, e.Node, "event %d", i)
		assert.Equal(t, w.kind, e.Kind, "event %d", i)
		assert.Equal(t, w.label, e.Label, "event %d", i)
		assert.Equal(t, w.data, e.Data, "event %d", i)
		if i > 0 {
			assert.True(t, events[i-1].HappensBefore(e), "event %d before event %d", i-1, i)
		}
	}
	assert.Equal(t, "client", events[2].Peer)

	var page strings.Builder
	require.NoError(t, trace.WriteHTML(&page, "rpc", events))
	assert.GreaterOrEqual(t, strings.Count(page.String(), `class="msglabel"`), 2, "both arrows named")
	assert.Contains(t, page.String(), ">Arith.Add<")
	assert.Contains(t, page.String(), ">Arith.Add reply<")
}

func TestHandlerErrorIsTraced(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	cli := serve(t, rec.Node("server"), rec.Node("client"), &Arith{})
	err := cli.Call(t.Context(), "Arith.Add", &Args{A: -1}, &Reply{})
	require.ErrorIs(t, err, errNegative)

	events := rec.Events()
	require.GreaterOrEqual(t, len(events), 3)
	assert.Equal(t, "Arith.Add reply", events[2].Label)
	assert.Contains(t, events[2].Data, "error: arith: negative")
	// The error reply carries the server's clock too, so the client
	// records its receipt.
	require.Len(t, events, 4)
	assert.Equal(t, trace.KindReceive, events[3].Kind)
	assert.Contains(t, events[3].Data, "error: rpc: Arith.Add: arith: ne")
}

// A call that the server passes on to a backend: the client's request
// happens before the backend's work, though they never talk directly.
func TestNestedCallsCarryCausality(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	client, front, back := rec.Node("client"), rec.Node("front"), rec.Node("back")
	backend := serve(t, back, front, &Arith{})
	cli := serve(t, front, client, &Arith{backend: backend})
	var reply Reply
	require.NoError(t, cli.Call(t.Context(), "Arith.Add", &Args{A: 1, B: 1}, &reply))
	require.Equal(t, 2, reply.C)

	events := rec.Events()
	require.Len(t, events, 8)
	first, last := events[0], events[len(events)-1]
	for _, e := range events {
		if e.Node == "back" {
			assert.True(t, first.HappensBefore(e), "client's call before %v", e)
			assert.True(t, e.HappensBefore(last), "%v before client's reply", e)
		}
	}
	assert.Equal(t, trace.VectorClock{"client": 2, "front": 4, "back": 2}, last.Clock)
}

func TestUntracedClientIsServedAndNotRecorded(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	x, y := net.Pipe()
	srv := rpc.NewServer(rpc.WithServerInterceptor(tracerpc.ServerInterceptor(rec.Node("server"))))
	require.NoError(t, srv.Register(&Arith{}))
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeConn(transport.NewConn(x))
	}()
	cli := rpc.NewClient(transport.NewConn(y))
	defer func() {
		cli.Close()
		srv.Close()
		<-done
	}()
	var reply Reply
	require.NoError(t, cli.Call(t.Context(), "Arith.Add", &Args{A: 1, B: 2}, &reply))
	assert.Equal(t, 3, reply.C)
	assert.Empty(t, rec.Events())
}
