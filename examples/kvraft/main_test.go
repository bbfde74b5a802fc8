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
	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEveryAppendIsKeptOnceThroughAKilledAndAPartitionedLeader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		res, err := show(context.Background(), config{clients: 4, n: 10, seed: 1}, demo.NewTracer("", ""), &out)
		require.NoError(t, err)
		assert.True(t, res.exact, out.String())
		assert.Equal(t, 120, res.appends)
		require.Len(t, res.leaders, 3)
		assert.NotEqual(t, res.leaders[1], res.leaders[2], "a new leader after the kill")
	})
}

func TestBadFlagsAreUsageErrors(t *testing.T) {
	var out, errb bytes.Buffer
	require.ErrorIs(t, run(context.Background(), []string{"-clients", "0"}, &out, &errb), demo.ErrUsage)
}

func TestTooManyClerksForThePageAreRefused(t *testing.T) {
	demotest.CheckUsage(t, run, "kvraft", []demotest.UsageCase{
		{Name: "nine clerks", Args: []string{"-dashboard", "127.0.0.1:0", "-clients", "9"}, Want: "-clients must be at most 8 with -dashboard"},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-dashboard")
}
