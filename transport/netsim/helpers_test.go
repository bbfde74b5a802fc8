package netsim_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// safety bounds waits in real-time tests, so a bug fails the test instead
// of hanging it; correct code never comes near it.
const safety = 30 * time.Second

// newNetwork returns a network closed at the end of the test, which logs
// its seed if the test fails.
func newNetwork(tb testing.TB, seed int64, opts ...netsim.Option) *netsim.Network {
	tb.Helper()
	n := netsim.NewNetwork(seed, opts...)
	n.LogSeedOnFailure(tb)
	tb.Cleanup(func() { n.Close() })
	return n
}

func testContext(tb testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), safety)
	tb.Cleanup(cancel)
	return ctx
}

// pipe dials from -> to on n and returns the two ends, closed at cleanup.
func pipe(tb testing.TB, n *netsim.Network, from, to string) (client, server transport.Conn) {
	tb.Helper()
	ctx := testContext(tb)
	l, err := n.Listen(to)
	require.NoError(tb, err)
	defer l.Close()
	client, err = n.Dial(ctx, from, to)
	require.NoError(tb, err)
	server, err = l.Accept(ctx)
	require.NoError(tb, err)
	tb.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// recorder collects the events an observer sees. The observer is called
// one event at a time, but from the network's goroutines as well as the
// test's, so what it records is shared under a mutex.
type recorder struct {
	mu     sync.Mutex // protects events
	events []netsim.Event
}

func (r *recorder) observe(e netsim.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// all returns the events seen so far.
func (r *recorder) all() []netsim.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// messages returns the events about messages seen so far, without the
// changes of the network.
func (r *recorder) messages() []netsim.Event {
	var out []netsim.Event
	for _, e := range r.all() {
		if e.Kind.Message() {
			out = append(out, e)
		}
	}
	return out
}

// count returns how many events of kind were seen so far.
func (r *recorder) count(kind netsim.EventKind) int {
	k := 0
	for _, e := range r.all() {
		if e.Kind == kind {
			k++
		}
	}
	return k
}
