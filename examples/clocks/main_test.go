package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runShow runs the demo's story with cfg and returns what it showed and
// printed.
func runShow(t *testing.T, cfg config) (outcome, string) {
	t.Helper()
	var out bytes.Buffer
	o, err := show(context.Background(), cfg, demo.NewTracer("", ""), &out)
	require.NoError(t, err)
	return o, out.String()
}

// defaults is the configuration of a run without flags.
func defaults() config {
	return config{skew: -30 * time.Millisecond, carol: 20 * time.Millisecond, delay: 10 * time.Millisecond, seed: 1}
}

func TestSlowClockStampsAReceiveBeforeItsSend(t *testing.T) {
	o, out := runShow(t, defaults())
	assert.Equal(t, 1, o.anomalies, "bob's receive of x=1\n%s", out)
	assert.False(t, o.physicalRight, "last writer wins by physical clocks keeps x=1 and loses bob's x=2")
	assert.Zero(t, o.lateLamport, "a Lamport receive is always after its send")
	assert.True(t, o.lamportRight, "last writer wins by Lamport clocks keeps x=2")
	assert.Equal(t, 1, o.concurrent, "bob's y=1 and carol's y=2, not alice's x=1 and bob's x=2")
}

func TestClocksThatAgreeShowNoAnomaly(t *testing.T) {
	for _, skew := range []time.Duration{0, -3 * time.Millisecond, 4 * time.Millisecond} {
		cfg := defaults()
		cfg.skew = skew
		for seed := int64(1); seed <= 5; seed++ {
			cfg.seed = seed
			o, out := runShow(t, cfg)
			// Every message takes at least 5ms: a smaller error cannot
			// reverse a send and its receive.
			assert.Zero(t, o.anomalies, "skew %v seed %d\n%s", skew, seed, out)
			assert.True(t, o.physicalRight, "skew %v seed %d", skew, seed)
			assert.True(t, o.lamportRight)
		}
	}
}

func TestLogicalClocksDoNotDependOnTheSkew(t *testing.T) {
	for seed := int64(1); seed <= 10; seed++ {
		cfg := defaults()
		cfg.seed = seed
		cfg.skew = -time.Duration(seed) * 10 * time.Millisecond
		o, _ := runShow(t, cfg)
		assert.Zero(t, o.lateLamport, "seed %d", seed)
		assert.True(t, o.lamportRight, "seed %d", seed)
		assert.Equal(t, 1, o.concurrent, "seed %d", seed)
	}
}

func TestCristianEstimateIsWithinHalfTheRoundTrip(t *testing.T) {
	for seed := int64(1); seed <= 20; seed++ {
		cfg := defaults()
		cfg.seed = seed
		o, _ := runShow(t, cfg)
		require.Positive(t, o.roundTrip)
		assert.LessOrEqual(t, abs(o.estimateOff), o.roundTrip/2, "seed %d", seed)
	}
}

func TestSameSeedSameRun(t *testing.T) {
	run1 := runDemo(t, "-seed", "7")
	assert.Equal(t, run1, runDemo(t, "-seed", "7"))
	assert.NotEqual(t, run1, runDemo(t, "-seed", "8"), "the seed draws the delays")
}

// runDemo runs the program with args and returns its output.
func runDemo(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
	return out.String()
}

func TestTraceWritesTheDiagram(t *testing.T) {
	dir := t.TempDir()
	out := runDemo(t, "-trace", dir)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	for _, want := range []string{"alice", "bob", "carol", "sets x=1", `"kind":"send"`, `"kind":"receive"`} {
		assert.Contains(t, string(events), want)
	}
}

func TestTraceIntoAFileFailsBeforeTheRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-trace", file}, &out, &errb)
	require.ErrorContains(t, err, "-trace: mkdir "+file)
	assert.Empty(t, out.String(), "nothing ran")
}

func TestBadFlagsAreExplained(t *testing.T) {
	demotest.CheckUsage(t, run, "clocks", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "huge skew", Args: []string{"-skew", "2h"}, Want: "-skew and -carol must be within 1h0m0s"},
		{Name: "tiny delay", Args: []string{"-delay", "1ms"}, Want: "-delay must be between 2ms and 1m"},
		{Name: "stray argument", Args: []string{"x"}, Want: `clocks takes no arguments, only flags (got "x")`},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-skew")
}
