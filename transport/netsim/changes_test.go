package netsim_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// change is what a test compares of an event about the network.
type change struct {
	Kind     netsim.EventKind
	Node     string
	From, To string
	Groups   [][]string
	Faults   transport.Faults
	Cleared  bool
	Limits   netsim.Limits
}

func changesOf(events []netsim.Event) []change {
	var out []change
	for _, e := range events {
		if !e.Kind.Message() {
			out = append(out, change{e.Kind, e.Node, e.From, e.To, e.Groups, e.Faults, e.Cleared, e.Limits})
		}
	}
	return out
}

func TestObserverSeesEveryChangeOfTheNetwork(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
	slow := transport.Faults{Drop: 0.5, Delay: time.Millisecond}

	n.Crash("a")
	n.Crash("a") // already down: no event
	n.Restart("a")
	n.Restart("a")
	n.Partition([]string{"a", "b"}, []string{"c"})
	n.Heal()
	n.Heal() // nothing to heal
	n.Disconnect("c")
	n.Reconnect("c")
	n.CutLink("a", "b")
	n.CutLink("a", "b")
	n.HealLink("a", "b")
	require.NoError(t, n.SetFaults("a", "b", slow))
	n.ClearFaults("a", "b")
	require.NoError(t, n.SetDefaultFaults(slow))
	require.NoError(t, n.SetLimits("a", "b", netsim.Limits{Bandwidth: 1000}))
	n.Hold()
	n.Hold()
	n.Resume()
	n.Resume()

	assert.Equal(t, []change{
		{Kind: netsim.EventCrash, Node: "a"},
		{Kind: netsim.EventRestart, Node: "a"},
		{Kind: netsim.EventPartition, Groups: [][]string{{"a", "b"}, {"c"}}},
		{Kind: netsim.EventHeal},
		{Kind: netsim.EventDisconnect, Node: "c"},
		{Kind: netsim.EventReconnect, Node: "c"},
		{Kind: netsim.EventCutLink, From: "a", To: "b"},
		{Kind: netsim.EventHealLink, From: "a", To: "b"},
		{Kind: netsim.EventFaults, From: "a", To: "b", Faults: slow},
		{Kind: netsim.EventFaults, From: "a", To: "b", Cleared: true}, // the defaults were none then
		{Kind: netsim.EventFaults, Faults: slow},
		{Kind: netsim.EventLimits, From: "a", To: "b", Limits: netsim.Limits{Bandwidth: 1000}},
		{Kind: netsim.EventHold},
		{Kind: netsim.EventResume},
	}, changesOf(rec.all()))
	for _, e := range rec.all() {
		assert.False(t, e.Time.IsZero(), "%v has a time", e.Kind)
	}
}

// A partition's event is reported in order with the drops it causes, so
// that a diagram can show the cut before the losses.
func TestPartitionEventComesBeforeItsDrops(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Second}))
		a, _ := pipe(t, n, "a", "b")
		require.NoError(t, a.Send(context.Background(), []byte("in flight")))
		n.Partition([]string{"a"}, []string{"b"})
		time.Sleep(2 * time.Second)
		var kinds []netsim.EventKind
		for _, e := range rec.all() {
			kinds = append(kinds, e.Kind)
		}
		assert.Equal(t, []netsim.EventKind{netsim.EventFaults, netsim.EventSend, netsim.EventPartition, netsim.EventDrop}, kinds)
	})
}

func TestObserversAllSeeEveryEventWithTheirOwnCopy(t *testing.T) {
	t.Parallel()
	first, second, late := &recorder{}, &recorder{}, &recorder{}
	n := newNetwork(t, 1, netsim.WithObserver(first.observe), netsim.WithObserver(nil), netsim.WithObserver(second.observe))
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	require.NoError(t, a.Send(ctx, []byte("one")))
	stop := n.Observe(late.observe)
	require.NoError(t, a.Send(ctx, []byte("two")))
	for range 2 {
		_, err := b.Recv(ctx)
		require.NoError(t, err)
	}
	stop()
	stop() // idempotent
	require.NoError(t, a.Send(ctx, []byte("three")))

	assert.Len(t, first.messages(), 6, "three sends and deliveries")
	assert.Equal(t, first.all(), second.all())
	lateEvents := late.messages()
	require.Len(t, lateEvents, 2, "only what happened while it observed")
	assert.Equal(t, "two", string(lateEvents[0].Msg))

	// Each observer's message is its own to keep.
	first.messages()[0].Msg[0] = 'X'
	assert.Equal(t, "one", string(second.messages()[0].Msg))
}

func TestObserveOnANetworkWithoutObservers(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	require.NoError(t, a.Send(ctx, []byte("unseen")))
	rec := &recorder{}
	stop := n.Observe(rec.observe)
	require.NoError(t, a.Send(ctx, []byte("seen")))
	stop()
	require.NoError(t, a.Send(ctx, []byte("unseen again")))
	for range 3 {
		_, err := b.Recv(ctx)
		require.NoError(t, err)
	}
	var msgs []string
	for _, e := range rec.all() {
		msgs = append(msgs, e.Kind.String()+" "+string(e.Msg))
	}
	assert.Equal(t, []string{"send seen", "deliver seen"}, msgs)
}

func TestCutLinkCutsOneDirectionOnly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		pa, pb := listenPacket(t, n, "a"), listenPacket(t, n, "b")
		n.CutLink("a", "b")
		_, err := pa.WriteTo([]byte("lost"), netsim.Addr("b"))
		require.NoError(t, err)
		_, err = pb.WriteTo([]byte("passes"), netsim.Addr("a"))
		require.NoError(t, err)
		time.Sleep(time.Second)
		n.HealLink("a", "b")
		_, err = pa.WriteTo([]byte("passes again"), netsim.Addr("b"))
		require.NoError(t, err)

		ab, ba := n.LinkStats("a", "b"), n.LinkStats("b", "a")
		assert.EqualValues(t, 1, ab.Dropped)
		assert.EqualValues(t, 1, ab.Delivered)
		assert.Equal(t, time.Second, ab.Partitioned)
		assert.EqualValues(t, 1, ba.Delivered)
		assert.Zero(t, ba.Dropped)
		assert.Zero(t, ba.Partitioned)
	})
}

// A handshake needs both directions: a Dial across a one-way cut waits
// for the link to heal, whichever way the cut runs.
func TestDialWaitsForACutLinkToHeal(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		l, err := n.Listen("server")
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		n.CutLink("server", "client")
		ctx := context.Background()
		dialed := make(chan error, 1)
		go func() {
			c, err := n.Dial(ctx, "client", "server")
			if err == nil {
				c.Close()
			}
			dialed <- err
		}()
		synctest.Wait()
		select {
		case err := <-dialed:
			t.Fatalf("Dial returned %v across a cut link", err)
		default:
		}
		n.Heal() // Heal restores cut links too
		require.NoError(t, <-dialed)
	})
}

func TestCutLinkLosesMessagesInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Second}))
		a, _ := pipe(t, n, "a", "b")
		require.NoError(t, a.Send(context.Background(), []byte("in flight")))
		n.CutLink("a", "b")
		time.Sleep(2 * time.Second)
		events := rec.all()
		last := events[len(events)-1]
		assert.Equal(t, netsim.EventDrop, last.Kind)
		assert.Equal(t, netsim.ReasonPartition, last.Reason)
	})
}
