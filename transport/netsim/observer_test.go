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

func TestObserverSeesEveryEvent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		rec := &recorder{}
		n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		start := time.Now()

		require.NoError(t, n.SetFaults("a", "b", transport.Faults{Duplicate: 1, Delay: time.Second}))
		require.NoError(t, a.Send(ctx, []byte("twice")))
		require.NoError(t, n.SetFaults("a", "b", transport.Faults{Drop: 1}))
		require.NoError(t, a.Send(ctx, []byte("never")))
		for range 2 {
			_, err := b.Recv(ctx)
			require.NoError(t, err)
		}

		events := rec.messages()
		// The ids of conn ends are counted from 1; the client end was
		// made first.
		id := events[0].ConnID
		type summary struct {
			Kind      netsim.EventKind
			Seq       uint64
			Msg       string
			At        time.Duration
			Duplicate bool
			Reason    netsim.DropReason
		}
		var got []summary
		for _, e := range events {
			assert.Equal(t, "a", e.From)
			assert.Equal(t, "b", e.To)
			assert.Equal(t, id, e.ConnID)
			assert.False(t, e.Packet)
			got = append(got, summary{e.Kind, e.Seq, string(e.Msg), e.Time.Sub(start), e.Duplicate, e.Reason})
		}
		assert.Equal(t, []summary{
			{netsim.EventSend, 1, "twice", 0, false, 0},
			{netsim.EventDuplicate, 1, "twice", 0, true, 0},
			{netsim.EventSend, 2, "never", 0, false, 0},
			{netsim.EventDrop, 2, "never", 0, false, netsim.ReasonFault},
			{netsim.EventDeliver, 1, "twice", time.Second, false, 0},
			{netsim.EventDeliver, 1, "twice", time.Second, true, 0},
		}, got)
	})
}

func TestObserverGetsACopyOfEachMessage(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	msg := []byte("hello")
	require.NoError(t, a.Send(ctx, msg))
	got, err := b.Recv(ctx)
	require.NoError(t, err)
	copy(msg, "XXXXX")
	copy(got, "YYYYY")
	for _, e := range rec.all() {
		assert.Equal(t, "hello", string(e.Msg), "%v", e.Kind)
	}
}

// Once Recv returns a message, its delivery has been reported, even
// when the network's goroutine delivered it.
func TestObserverHasSeenTheDeliveryWhenRecvReturns(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	n := newNetwork(t, 1, netsim.WithObserver(rec.observe))
	require.NoError(t, n.SetDefaultFaults(transport.Faults{Jitter: 50 * time.Microsecond}))
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	go func() {
		for i := range 300 {
			if err := a.Send(ctx, payload(uint64(i))); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 300 {
		_, err := b.Recv(ctx)
		require.NoError(t, err)
		require.GreaterOrEqual(t, rec.count(netsim.EventDeliver), i+1)
	}
	// Each message was sent before it was delivered.
	sent := map[uint64]bool{}
	for _, e := range rec.all() {
		switch e.Kind {
		case netsim.EventSend:
			sent[e.Seq] = true
		case netsim.EventDeliver:
			require.True(t, sent[e.Seq], "message %d delivered before it was sent", e.Seq)
		}
	}
}

func TestEventKindAndReasonNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give fmtStringer
		want string
	}{
		{netsim.EventSend, "send"},
		{netsim.EventDuplicate, "duplicate"},
		{netsim.EventDeliver, "deliver"},
		{netsim.EventDrop, "drop"},
		{netsim.EventCrash, "crash"},
		{netsim.EventRestart, "restart"},
		{netsim.EventPartition, "partition"},
		{netsim.EventHeal, "heal"},
		{netsim.EventDisconnect, "disconnect"},
		{netsim.EventReconnect, "reconnect"},
		{netsim.EventCutLink, "cut link"},
		{netsim.EventHealLink, "heal link"},
		{netsim.EventFaults, "faults"},
		{netsim.EventLimits, "limits"},
		{netsim.EventHold, "hold"},
		{netsim.EventResume, "resume"},
		{netsim.EventKind(99), "EventKind(99)"},
		{netsim.ReasonFault, "fault"},
		{netsim.ReasonPartition, "partition"},
		{netsim.ReasonCrash, "crash"},
		{netsim.ReasonClosed, "closed"},
		{netsim.ReasonQueueFull, "queue full"},
		{netsim.DropReason(0), "DropReason(0)"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.give.String())
		})
	}
}

type fmtStringer interface{ String() string }
