package transport_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

func TestFaultsValidate(t *testing.T) {
	tests := []struct {
		name    string
		give    transport.Faults
		wantErr bool
	}{
		{"zero", transport.Faults{}, false},
		{"all set", transport.Faults{Drop: 1, Duplicate: 0.5, Delay: time.Second, Jitter: time.Millisecond, Reorder: 0.1, Corrupt: 0.2, Truncate: 0.3}, false},
		{"drop above one", transport.Faults{Drop: 1.5}, true},
		{"negative duplicate", transport.Faults{Duplicate: -0.1}, true},
		{"NaN reorder", transport.Faults{Reorder: math.NaN()}, true},
		{"negative delay", transport.Faults{Delay: -time.Millisecond}, true},
		{"negative jitter", transport.Faults{Jitter: -1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.give.Validate()
			if tt.wantErr {
				require.ErrorIs(t, err, transport.ErrInvalidFaults)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestFaultsString(t *testing.T) {
	assert.Equal(t, "no faults", transport.Faults{Seed: 3}.String())
	assert.Equal(t, "drop 20%, duplicate 10%, delay 50ms",
		transport.Faults{Drop: 0.2, Duplicate: 0.1, Delay: 50 * time.Millisecond}.String())
}

// TestPlanRatesMatchProbabilities checks each fault's observed rate over
// many messages. The generator is seeded, so the outcome is fixed: the
// tolerance is for the law of large numbers, not for luck.
func TestPlanRatesMatchProbabilities(t *testing.T) {
	f := transport.Faults{Drop: 0.2, Duplicate: 0.1, Reorder: 0.05, Corrupt: 0.03, Truncate: 0.02, Jitter: time.Millisecond}
	r := rand.New(rand.NewPCG(1, 2))
	var s transport.FaultStats
	msg := []byte("a message of some length")
	const n = 200_000
	for range n {
		s.Record(f.Plan(r, msg))
	}
	rate := func(k, of int64) float64 { return float64(k) / float64(of) }
	assert.Equal(t, int64(n), s.Messages)
	assert.InDelta(t, 0.2, rate(s.Dropped, n), 0.005, "drop rate")
	kept := n - s.Dropped
	assert.InDelta(t, 0.1, rate(s.Duplicated, kept), 0.005, "duplicate rate")
	assert.InDelta(t, 0.05, rate(s.Reordered, s.Delivered), 0.003, "reorder rate")
	assert.InDelta(t, 0.03, rate(s.Corrupted, s.Delivered), 0.003, "corrupt rate")
	assert.InDelta(t, 0.02, rate(s.Truncated, s.Delivered), 0.003, "truncate rate")
	assert.Equal(t, kept+s.Duplicated, s.Delivered)
}

func TestPlanIsDeterministicForASeed(t *testing.T) {
	f := transport.Faults{Drop: 0.3, Duplicate: 0.2, Jitter: 10 * time.Millisecond, Reorder: 0.1, Corrupt: 0.1, Truncate: 0.1}
	schedule := func(seed uint64) [][]transport.Delivery {
		r := rand.New(rand.NewPCG(seed, 0))
		var out [][]transport.Delivery
		for i := range 500 {
			out = append(out, f.Plan(r, []byte{byte(i), 1, 2, 3, 4, 5, 6, 7}))
		}
		return out
	}
	assert.Equal(t, schedule(42), schedule(42), "same seed, same decisions")
	assert.NotEqual(t, schedule(42), schedule(43), "another seed, other decisions")
}

func TestPlanNeverModifiesTheMessage(t *testing.T) {
	f := transport.Faults{Corrupt: 1, Truncate: 0.5, Duplicate: 0.5}
	r := rand.New(rand.NewPCG(7, 7))
	for range 1000 {
		msg := []byte("the original bytes")
		ds := f.Plan(r, msg)
		require.Equal(t, "the original bytes", string(msg))
		for _, d := range ds {
			require.True(t, d.Corrupted)
			if !d.Truncated {
				require.Len(t, d.Msg, len(msg))
				diff := 0
				for i := range msg {
					if d.Msg[i] != msg[i] {
						diff++
					}
				}
				require.Equal(t, 1, diff, "corruption changes exactly one byte")
			} else {
				require.Less(t, len(d.Msg), len(msg))
			}
		}
	}
}

func TestPlanDelays(t *testing.T) {
	f := transport.Faults{Delay: 10 * time.Millisecond, Jitter: 5 * time.Millisecond, Reorder: 0.5, ReorderDelay: time.Second}
	r := rand.New(rand.NewPCG(3, 3))
	reordered := 0
	for range 1000 {
		ds := f.Plan(r, []byte("x"))
		require.Len(t, ds, 1)
		d := ds[0]
		base := d.Delay
		if d.Reordered {
			reordered++
			base -= time.Second
		}
		require.GreaterOrEqual(t, base, 10*time.Millisecond)
		require.Less(t, base, 15*time.Millisecond)
	}
	assert.InDelta(t, 500, reordered, 60)
}

func TestZeroFaultsDeliverEverythingUntouched(t *testing.T) {
	var f transport.Faults
	require.True(t, f.IsZero())
	r := rand.New(rand.NewPCG(1, 1))
	msg := []byte("hello")
	ds := f.Plan(r, msg)
	require.Len(t, ds, 1)
	assert.True(t, bytes.Equal(msg, ds[0].Msg))
	assert.Zero(t, ds[0].Delay)
}
