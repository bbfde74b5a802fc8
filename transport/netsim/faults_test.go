package netsim_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// payload is message id as 8 bytes, four times: a changed byte makes the
// copies disagree, so corruption is seen even if it hits the id.
func payload(id uint64) []byte {
	b := make([]byte, 32)
	for i := 0; i < 32; i += 8 {
		binary.BigEndian.PutUint64(b[i:], id)
	}
	return b
}

// parse returns the id of a payload and whether it arrived intact.
func parse(b []byte) (uint64, bool) {
	if len(b) != 32 {
		return 0, false
	}
	id := binary.BigEndian.Uint64(b)
	return id, bytes.Equal(b, payload(id))
}

// sendAll sends count payloads from client, closes it, and returns what
// server received before io.EOF. Run it inside a synctest bubble: the
// delays pass in virtual time.
func sendAll(t *testing.T, client, server transport.Conn, count int) [][]byte {
	t.Helper()
	ctx := context.Background()
	for i := range count {
		require.NoError(t, client.Send(ctx, payload(uint64(i))))
	}
	require.NoError(t, client.Close())
	var got [][]byte
	for {
		msg, err := server.Recv(ctx)
		if errors.Is(err, io.EOF) {
			return got
		}
		require.NoError(t, err)
		got = append(got, msg)
	}
}

// within asserts that got is within four standard deviations of the
// number of successes expected in count trials of probability p.
func within(t *testing.T, what string, got int64, count int, p float64) {
	t.Helper()
	want := float64(count) * p
	sigma := math.Sqrt(float64(count) * p * (1 - p))
	assert.InDelta(t, want, float64(got), 4*sigma+1, "%s: got %d, want about %.0f", what, got, want)
}

func TestFaultRatesHoldStatistically(t *testing.T) {
	t.Parallel()
	const count = 10_000
	tests := []struct {
		name   string
		faults transport.Faults
		check  func(t *testing.T, s netsim.LinkStats, got [][]byte)
	}{
		{"Drop", transport.Faults{Drop: 0.3}, func(t *testing.T, s netsim.LinkStats, got [][]byte) {
			within(t, "dropped", s.Dropped, count, 0.3)
			assert.Equal(t, count-int(s.Dropped), len(got), "received")
		}},
		{"Duplicate", transport.Faults{Duplicate: 0.2}, func(t *testing.T, s netsim.LinkStats, got [][]byte) {
			within(t, "duplicated", s.Duplicated, count, 0.2)
			assert.Equal(t, count+int(s.Duplicated), len(got), "received")
		}},
		{"Reorder", transport.Faults{Reorder: 0.25, Delay: time.Millisecond}, func(t *testing.T, s netsim.LinkStats, got [][]byte) {
			within(t, "reordered", s.Faults.Reordered, count, 0.25)
			require.Len(t, got, count)
			overtaken, maxID := 0, uint64(0)
			for _, msg := range got {
				id, ok := parse(msg)
				require.True(t, ok)
				if id < maxID {
					overtaken++
				}
				maxID = max(maxID, id)
			}
			assert.Equal(t, int(s.Faults.Reordered), overtaken, "messages that arrived after a later one")
		}},
		{"Corrupt", transport.Faults{Corrupt: 0.1}, func(t *testing.T, s netsim.LinkStats, got [][]byte) {
			within(t, "corrupted", s.Faults.Corrupted, count, 0.1)
			damaged := 0
			for _, msg := range got {
				if _, ok := parse(msg); !ok {
					damaged++
				}
			}
			assert.Equal(t, int(s.Faults.Corrupted), damaged, "damaged messages received")
		}},
		{"Truncate", transport.Faults{Truncate: 0.1}, func(t *testing.T, s netsim.LinkStats, got [][]byte) {
			within(t, "truncated", s.Faults.Truncated, count, 0.1)
			short := 0
			for _, msg := range got {
				if len(msg) < 32 {
					short++
				}
			}
			assert.Equal(t, int(s.Faults.Truncated), short, "short messages received")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				n := newNetwork(t, 7)
				require.NoError(t, n.SetFaults("a", "b", tt.faults))
				a, b := pipe(t, n, "a", "b")
				got := sendAll(t, a, b, count)
				s := n.LinkStats("a", "b")
				assert.EqualValues(t, count, s.Sent)
				assert.Equal(t, s.Sent+s.Duplicated, s.Delivered+s.Dropped, "every copy is delivered or dropped")
				tt.check(t, s, got)
			})
		})
	}
}

// everyFault exercises every kind of fault at once.
var everyFault = transport.Faults{
	Drop: 0.2, Duplicate: 0.1, Delay: 10 * time.Millisecond, Jitter: 20 * time.Millisecond,
	Reorder: 0.1, Corrupt: 0.05, Truncate: 0.05,
}

// deliveryTrace runs a fixed sequence of sends on a faulty network made
// with seed, in virtual time, and returns every event the observer saw,
// with times counted from the start.
func deliveryTrace(t *testing.T, seed int64) []string {
	var mu sync.Mutex // guards trace, written by the network's goroutines
	var trace []string
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		n := newNetwork(t, seed, netsim.WithObserver(func(e netsim.Event) {
			mu.Lock()
			defer mu.Unlock()
			trace = append(trace, fmt.Sprintf("%v %s->%s conn=%d seq=%d dup=%v at=%v msg=%x reason=%v",
				e.Kind, e.From, e.To, e.ConnID, e.Seq, e.Duplicate, e.Time.Sub(start), e.Msg, e.Reason))
		}))
		require.NoError(t, n.SetDefaultFaults(everyFault))
		a, b := pipe(t, n, "a", "b")
		pa, err := n.ListenPacket("a")
		require.NoError(t, err)
		pb, err := n.ListenPacket("b")
		require.NoError(t, err)
		defer pa.Close()
		defer pb.Close()

		ctx := context.Background()
		for burst := range 3 {
			// Each burst is sent at one instant and has arrived before
			// the next: the order of events is fixed.
			for i := range 50 {
				id := uint64(burst*100 + i)
				require.NoError(t, a.Send(ctx, payload(id)))
				require.NoError(t, b.Send(ctx, payload(id+50)))
				_, err := pa.WriteTo(payload(id), netsim.Addr("b"))
				require.NoError(t, err)
			}
			time.Sleep(time.Second) // virtual: every copy has arrived
		}
	})
	mu.Lock()
	defer mu.Unlock()
	return trace
}

func TestSameSeedSameDeliveryTrace(t *testing.T) {
	t.Parallel()
	first := deliveryTrace(t, 42)
	second := deliveryTrace(t, 42)
	require.NotEmpty(t, first)
	assert.Equal(t, first, second)

	kinds := map[string]bool{}
	for _, line := range first {
		kinds[line[:bytes.IndexByte([]byte(line), ' ')]] = true
	}
	assert.Equal(t, map[string]bool{"faults": true, "send": true, "deliver": true, "drop": true, "duplicate": true}, kinds,
		"the trace exercises every kind of message event")
}

func TestDifferentSeedDifferentDeliveryTrace(t *testing.T) {
	t.Parallel()
	assert.NotEqual(t, deliveryTrace(t, 42), deliveryTrace(t, 43))
}

// A link's faults depend on the sends on that link only: traffic on other
// links, concurrent or not, does not shift its schedule.
func TestLinkScheduleIndependentOfOtherTraffic(t *testing.T) {
	t.Parallel()
	dropped := func(t *testing.T, withNoise bool) []uint64 {
		var mu sync.Mutex // the observer is called from several goroutines
		var seqs []uint64
		n := newNetwork(t, 5, netsim.WithObserver(func(e netsim.Event) {
			if e.Kind == netsim.EventDrop && e.From == "a" && e.To == "b" {
				mu.Lock()
				seqs = append(seqs, e.Seq)
				mu.Unlock()
			}
		}))
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Drop: 0.3, Duplicate: 0.1}))
		a, _ := pipe(t, n, "a", "b")
		ctx := testContext(t)
		var wg sync.WaitGroup
		if withNoise {
			c, _ := pipe(t, n, "c", "b")
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 500 {
					if err := c.Send(ctx, payload(uint64(i))); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		for i := range 500 {
			require.NoError(t, a.Send(ctx, payload(uint64(i))))
		}
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return seqs
	}
	alone := dropped(t, false)
	require.NotEmpty(t, alone)
	assert.Equal(t, alone, dropped(t, true))
}

func TestFaultsApplyToMessagesSentAfterTheChange(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		start := time.Now()

		require.NoError(t, n.SetFaults("a", "b", transport.Faults{Delay: time.Second}))
		require.NoError(t, a.Send(ctx, []byte("slow")))
		require.NoError(t, n.SetFaults("a", "b", transport.Faults{Drop: 1}))
		require.NoError(t, a.Send(ctx, []byte("lost")))
		n.ClearFaults("a", "b") // back to the default: none
		require.NoError(t, a.Send(ctx, []byte("fast")))

		msg, err := b.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "fast", string(msg))
		assert.Zero(t, time.Since(start))
		msg, err = b.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "slow", string(msg), "a message sent before the change keeps its delay")
		assert.Equal(t, time.Second, time.Since(start))
		assert.EqualValues(t, 1, n.LinkStats("a", "b").Dropped)
	})
}

// Concurrent sends and fault changes: every message meets one Faults value
// whole, never a mix of the old and the new.
func TestFaultChangesAreAtomic(t *testing.T) {
	t.Parallel()
	type fate struct{ dups, delivered, corrupted int }
	var mu sync.Mutex // guards fates: the observer runs on several goroutines
	fates := map[uint64]*fate{}
	n := newNetwork(t, 3, netsim.WithObserver(func(e netsim.Event) {
		if !e.Kind.Message() {
			return // the SetFaults calls
		}
		mu.Lock()
		defer mu.Unlock()
		f := fates[e.Seq]
		if f == nil {
			f = &fate{}
			fates[e.Seq] = f
		}
		switch e.Kind {
		case netsim.EventDuplicate:
			f.dups++
		case netsim.EventDeliver:
			f.delivered++
			if e.Corrupted {
				f.corrupted++
			}
		}
	}))
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	const count = 3000
	bad := transport.Faults{Duplicate: 1, Corrupt: 1}

	require.NoError(t, n.SetFaults("a", "b", bad)) // the first messages meet them
	stop := make(chan struct{})
	toggled := make(chan int)
	go func() {
		k := 0
		defer func() { toggled <- k }()
		for ; ; k++ {
			select {
			case <-stop:
				return
			default:
			}
			f := transport.Faults{}
			if k%2 == 1 {
				f = bad
			}
			if err := n.SetFaults("a", "b", f); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	received := make(chan int)
	go func() {
		k := 0
		defer func() { received <- k }()
		for {
			if _, err := b.Recv(ctx); err != nil {
				return
			}
			k++
		}
	}()
	for i := range count {
		require.NoError(t, a.Send(ctx, payload(uint64(i))))
	}
	close(stop)
	toggles := <-toggled
	require.NoError(t, a.Close())
	got := <-received

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, fates, count)
	var whole, none int
	for seq, f := range fates {
		switch *f {
		case fate{dups: 1, delivered: 2, corrupted: 2}:
			whole++
		case fate{dups: 0, delivered: 1, corrupted: 0}:
			none++
		default:
			t.Fatalf("message %d met a mix of faults: %+v", seq, *f)
		}
	}
	assert.Equal(t, count+whole, got, "received")
	assert.Positive(t, whole)
	t.Logf("%d toggles; %d messages met the faults, %d did not", toggles, whole, none)
}

func TestFaultsArePerDirection(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	require.NoError(t, n.SetFaults("a", "b", transport.Faults{Drop: 1}))
	a, b := pipe(t, n, "a", "b")
	ctx := testContext(t)
	require.NoError(t, a.Send(ctx, []byte("lost")))
	require.NoError(t, b.Send(ctx, []byte("back")))
	msg, err := a.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "back", string(msg))
	assert.EqualValues(t, 1, n.LinkStats("a", "b").Dropped)
	assert.EqualValues(t, 0, n.LinkStats("b", "a").Dropped)
}

func TestDefaultFaultsSpareLinksWithTheirOwn(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	require.NoError(t, n.SetFaults("a", "b", transport.Faults{}))
	n.SetReliable(false)
	a, b := pipe(t, n, "a", "b")
	c, _ := pipe(t, n, "c", "b")
	ctx := testContext(t)
	for i := range 200 {
		require.NoError(t, a.Send(ctx, payload(uint64(i))))
		require.NoError(t, c.Send(ctx, payload(uint64(i))))
	}
	for i := range 200 {
		msg, err := b.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, payload(uint64(i)), msg, "a -> b keeps its own (no) faults")
	}
	assert.Zero(t, n.LinkStats("a", "b").Dropped)
	assert.Positive(t, n.LinkStats("c", "b").Dropped, "c -> b is unreliable")
}

func TestInvalidFaultsRefused(t *testing.T) {
	t.Parallel()
	n := newNetwork(t, 1)
	require.ErrorIs(t, n.SetFaults("a", "b", transport.Faults{Drop: 2}), transport.ErrInvalidFaults)
	require.ErrorIs(t, n.SetDefaultFaults(transport.Faults{Delay: -1}), transport.ErrInvalidFaults)
	require.ErrorIs(t, n.SetFaults("", "b", transport.Faults{}), netsim.ErrInvalidNode)
}
