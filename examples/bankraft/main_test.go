package main

import (
	"bytes"
	"context"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMoneyIsConservedThroughTheLockLeadersDeath(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		res, err := show(context.Background(), config{accounts: 6, transfers: 100, tellers: 4, seed: 1}, demo.NewTracer("", ""), &out)
		require.NoError(t, err)
		assert.Equal(t, 600, res.before)
		assert.Equal(t, res.before, res.after, out.String())
		assert.Equal(t, 100, res.transfers)
		require.Len(t, res.leaders, 2)
		assert.NotEqual(t, res.leaders[0], res.leaders[1], "a new leader after the kill")
		assert.Zero(t, res.leasesLost, "the failover cost no lease")
		assert.Greater(t, res.firstAfter, res.tokenAtKill, "tokens grew across the failover")
		assert.Less(t, res.outage, 5*callTimeout, "no grace period: a call timeout and an election")
	})
}

func TestBadFlagsAreUsageErrors(t *testing.T) {
	var out, errb bytes.Buffer
	require.ErrorIs(t, run(context.Background(), []string{"-tellers", "0"}, &out, &errb), demo.ErrUsage)
	require.ErrorIs(t, run(context.Background(), []string{"extra"}, &out, &errb), demo.ErrUsage)
	require.ErrorIs(t, run(context.Background(), []string{"-dashboard", "127.0.0.1:0", "-tellers", "9"}, &out, &errb), demo.ErrUsage)
	assert.Empty(t, out.String(), "nothing ran")
}
