package tracesim_test

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/internal/shivizcheck"
	"github.com/distsys-kit/distsys/trace/tracerpc"
	"github.com/distsys-kit/distsys/trace/tracesim"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Counter is an rpc service whose calls are not idempotent.
type Counter struct{ n int }

// Add adds to the counter and returns the new value.
func (c *Counter) Add(args *int, reply *int) error {
	c.n += *args
	*reply = c.n
	return nil
}

// system is a traced rpc server and client on a netsim network.
type system struct {
	rec *trace.Recorder
	net *netsim.Network
	cli *rpc.Client
}

// start serves a Counter on node "server" and dials it from "client",
// with tracerpc on both sides and tracesim watching the network. Call it
// inside a synctest bubble; everything is closed at cleanup.
func start(t *testing.T, clientOpts ...rpc.DialOption) *system {
	t.Helper()
	rec := trace.NewRecorder()
	net := netsim.NewNetwork(1, netsim.WithObserver(tracesim.Observer(rec)))
	l, err := net.Listen("server")
	require.NoError(t, err)
	srv := rpc.NewServer(rpc.WithServerInterceptor(tracerpc.ServerInterceptor(rec.Node("server"))))
	require.NoError(t, srv.Register(&Counter{}))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	opts := append([]rpc.DialOption{
		rpc.WithDialer(net.Dialer("client")),
		rpc.WithClientInterceptor(tracerpc.ClientInterceptor(rec.Node("client"), "server")),
	}, clientOpts...)
	cli, err := rpc.Dial(t.Context(), "server", opts...)
	require.NoError(t, err)
	t.Cleanup(func() {
		cli.Close()
		srv.Close()
		<-served
		net.Close()
	})
	return &system{rec: rec, net: net, cli: cli}
}

// kinds returns the events of kind.
func kinds(events []trace.Event, kind trace.Kind) []trace.Event {
	var out []trace.Event
	for _, e := range events {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// An rpc request lost by the network is drawn as a drop that names its
// method, though its stamp is inside the rpc message, not in front of it.
func TestRPCDropsCarryTheMethodAndTheReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t)
		require.NoError(t, s.net.SetFaults("client", "server", transport.Faults{Drop: 1}))
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		one, reply := 1, 0
		err := s.cli.Call(ctx, "Counter.Add", &one, &reply)
		require.ErrorIs(t, err, context.DeadlineExceeded)

		drops := kinds(s.rec.Events(), trace.KindDrop)
		require.Len(t, drops, 1)
		assert.Equal(t, "Counter.Add", drops[0].Label)
		assert.Equal(t, "client", drops[0].Node)
		assert.Equal(t, "server", drops[0].Peer)
		assert.Equal(t, "dropped by netsim: fault", drops[0].Note)
		assert.Equal(t, `"1"`, drops[0].Data, "the call's arguments, from its send")
	})
}

// A lost reply makes the client retry; the server answers the retry from
// its reply cache, resending the reply it had saved. The trace shows the
// retry, the copy the server did not run again, and the cached reply.
func TestRetriesAndReplyCacheHitsAreRecorded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := start(t, rpc.WithRetry(rpc.RetryPolicy{Interval: 100 * time.Millisecond}))
		one, reply := 1, 0
		require.NoError(t, s.cli.Call(t.Context(), "Counter.Add", &one, &reply)) // learns the server's epoch
		setup := len(s.rec.Events())

		require.NoError(t, s.net.SetFaults("server", "client", transport.Faults{Drop: 1}))
		done := make(chan error, 1)
		go func() { done <- s.cli.Call(t.Context(), "Counter.Add", &one, &reply) }()
		synctest.Wait() // the call ran, and its reply was lost
		s.net.ClearFaults("server", "client")
		require.NoError(t, <-done)
		assert.Equal(t, 2, reply, "run once")

		type step struct {
			node  string
			kind  trace.Kind
			label string
			note  string
		}
		var got []step
		for _, e := range s.rec.Events()[setup:] {
			got = append(got, step{e.Node, e.Kind, e.Label, e.Note})
		}
		assert.Equal(t, []step{
			{"", trace.KindFaults, "server → client: drop 100%", ""},
			{"client", trace.KindSend, "Counter.Add", ""},
			{"server", trace.KindReceive, "Counter.Add", ""},
			{"server", trace.KindSend, "Counter.Add reply", ""},
			{"server", trace.KindDrop, "Counter.Add reply", "dropped by netsim: fault"},
			{"", trace.KindFaults, "server → client: no faults", ""},
			{"client", trace.KindResend, "Counter.Add", "retry"},
			{"server", trace.KindDuplicate, "Counter.Add", ""},
			{"server", trace.KindResend, "Counter.Add reply", "reply cache"},
			{"client", trace.KindReceive, "Counter.Add reply", ""},
		}, got)
		requireShiVizRules(t, s.rec.Events())
	})
}

// Crashes and restarts are events of the node; partitions, cut links,
// disconnections, heals and new faults are marks of the network.
func TestChangesOfTheNetworkAreRecorded(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	net := netsim.NewNetwork(1, netsim.WithObserver(tracesim.Observer(rec)))
	defer net.Close()
	net.Crash("b")
	net.Restart("b")
	net.Partition([]string{"a", "b"}, []string{"c"})
	net.Heal()
	net.CutLink("a", "c")
	net.HealLink("a", "c")
	net.Disconnect("c")
	net.Reconnect("c")
	require.NoError(t, net.SetDefaultFaults(transport.Faults{Drop: 0.5}))
	require.NoError(t, net.SetLimits("a", "b", netsim.Limits{Bandwidth: 100})) // not drawn
	net.Hold()                                                                 // not drawn
	net.Resume()

	var got []string
	for _, e := range rec.Events() {
		got = append(got, e.Node+" "+e.String())
	}
	assert.Equal(t, []string{
		"b crashed",
		"b restarted",
		" partition: {a b} | {c}",
		" heal: every link",
		" partition: cut a → c",
		" heal: heal a → c",
		" partition: disconnect c",
		" heal: reconnect c",
		" faults: every link: drop 50%",
	}, got)
	requireShiVizRules(t, rec.Events())
}

// A message the network duplicated is received twice by a traced conn:
// the second receive is the program's, and no extra copy is drawn.
func TestDuplicatesTakenByAConnAreReceives(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := trace.NewRecorder()
		net := netsim.NewNetwork(1, netsim.WithObserver(tracesim.Observer(rec)))
		defer net.Close()
		require.NoError(t, net.SetDefaultFaults(transport.Faults{Duplicate: 1}))
		l, err := net.Listen("b")
		require.NoError(t, err)
		defer l.Close()
		ctx := t.Context()
		a, err := rec.Node("a").WrapDialer(net.Dialer("a")).Dial(ctx, "b")
		require.NoError(t, err)
		defer a.Close()
		b, err := rec.Node("b").WrapListener(l).Accept(ctx)
		require.NoError(t, err)
		defer b.Close()
		require.NoError(t, a.Send(ctx, []byte("twice")))
		for range 2 {
			_, err := b.Recv(ctx)
			require.NoError(t, err)
		}
		events := rec.Events()
		assert.Len(t, kinds(events, trace.KindReceive), 2)
		assert.Len(t, kinds(events, trace.KindDuplicate), 1, "the network's second copy is noted")
		assert.Empty(t, kinds(events, trace.KindResend), "the program sent it once")
	})
}

// requireShiVizRules checks that the ShiViz log of events is one ShiViz
// accepts.
func requireShiVizRules(t *testing.T, events []trace.Event) {
	t.Helper()
	var log strings.Builder
	require.NoError(t, trace.WriteShiViz(&log, events))
	_, err := shivizcheck.Check(log.String())
	require.NoError(t, err, "%s", log.String())
}
