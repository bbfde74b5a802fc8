package retry_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/retry"
)

// pauses makes n pauses with b and returns how long each took, in virtual
// time.
func pauses(t *testing.T, b retry.Backoff, n int) []time.Duration {
	var got []time.Duration
	synctest.Test(t, func(t *testing.T) {
		for range n {
			start := time.Now()
			require.NoError(t, b.Wait(t.Context()))
			got = append(got, time.Since(start))
		}
	})
	return got
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	got := pauses(t, retry.Backoff{Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond}, 5)
	ms := time.Millisecond
	assert.Equal(t, []time.Duration{10 * ms, 20 * ms, 40 * ms, 50 * ms, 50 * ms}, got)
}

func TestBackoffWithoutMaxIsAFixedInterval(t *testing.T) {
	got := pauses(t, retry.Backoff{Initial: time.Second}, 3)
	assert.Equal(t, []time.Duration{time.Second, time.Second, time.Second}, got)
}

func TestWaitEndsWithTheContextsCause(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errGone := errors.New("server gone")
		ctx, cancel := context.WithCancelCause(t.Context())
		b := retry.Backoff{Initial: time.Hour}
		time.AfterFunc(time.Second, func() { cancel(errGone) })
		start := time.Now()
		require.ErrorIs(t, b.Wait(ctx), errGone)
		assert.Equal(t, time.Second, time.Since(start), "Wait stopped when ctx ended, not after its pause")
	})
}
