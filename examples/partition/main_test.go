package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runDemo runs the demo with args in a synctest bubble, so that its
// timeouts pass in virtual time, and returns what it printed.
func runDemo(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
	})
	return out.String()
}

// steps runs the demo's steps with cfg (on a perfect network, seed 1, by
// default) in a synctest bubble and returns what the clients saw in each.
func steps(t *testing.T, cfg config) (result, string) {
	t.Helper()
	if cfg.writes == 0 {
		cfg.writes = 2
	}
	if cfg.faults.Seed == 0 {
		cfg.faults.Seed = 1
	}
	cfg.timeout = demo.ReplyTimeout(0, cfg.faults)
	var out bytes.Buffer
	var res result
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = runSteps(context.Background(), cfg, demo.NewTracer("", ""), &out)
		require.NoError(t, err)
	})
	return res, out.String()
}

func TestBackupCutOffServesStaleReadsAndCatchesUpAfterHeal(t *testing.T) {
	t.Parallel()
	res, out := steps(t, config{})
	assert.Equal(t, tally{ok: 3, writesOK: 2, fresh: 1}, res.whole, "whole: everything works\n%s", out)
	assert.Equal(t, 2, res.cut.writesOK, "the primary keeps taking alice's writes")
	assert.Equal(t, 1, res.cut.stale, "bob reads an old x at the backup")
	assert.Equal(t, 1, res.cut.timedOut, "bob's write cannot reach the primary")
	assert.Equal(t, tally{ok: 3, writesOK: 1, fresh: 2}, res.healed, "healed: the backup caught up")
}

func TestSyncReplicationRefusesWritesInsteadOfServingStaleReads(t *testing.T) {
	t.Parallel()
	res, out := steps(t, config{sync: true, writes: 3})
	assert.Equal(t, 3, res.cut.refused, "every write of alice's is refused\n%s", out)
	assert.Zero(t, res.cut.writesOK)
	assert.Zero(t, res.whole.stale+res.cut.stale+res.healed.stale, "no read is ever stale")
	assert.Equal(t, 1, res.cut.timedOut, "bob's write cannot reach the primary")
	assert.Equal(t, 1, res.healed.writesOK, "writes are accepted again after the heal")
}

func TestCrashedBackupLooksLikeAPartitionAndIsRefilledAfterRestart(t *testing.T) {
	t.Parallel()
	res, out := steps(t, config{crash: true})
	assert.Equal(t, 1, res.cut.timedOut, "bob's read at the crashed backup times out\n%s", out)
	assert.Equal(t, 3, res.cut.writesOK, "the primary is still there for both")
	assert.Equal(t, 1, res.healed.maybe, "the restarted backup cannot tell what its old self ran")
	assert.Equal(t, 2, res.healed.fresh, "the primary refilled the empty backup")
	assert.Zero(t, res.whole.stale+res.cut.stale+res.healed.stale)
}

func TestFaultsAreCountedAndHealingStillRecovers(t *testing.T) {
	t.Parallel()
	res, out := steps(t, config{faults: transport.Faults{Drop: 0.2, Duplicate: 0.1, Seed: 7}})
	assert.Positive(t, res.lostAtCut, "messages lost to the partition\n%s", out)
	assert.Positive(t, res.lostToFaults, "messages lost to -drop")
	assert.Positive(t, res.cut.timedOut, "no retry crosses a partition: bob's put times out")
	assert.Zero(t, res.healed.stale, "after the heal the backup has caught up")
	assert.Zero(t, res.whole.failed+res.cut.failed+res.healed.failed, "every failure is a timeout")
}

func TestBadFlagsAreExplained(t *testing.T) {
	demotest.CheckUsage(t, run, "partition", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "no writes", Args: []string{"-writes", "0"}, Want: "-writes must be at least 1"},
		{Name: "negative timeout", Args: []string{"-timeout", "-1s"}, Want: "-timeout must not be negative"},
		{Name: "bad drop", Args: []string{"-drop", "2"}, Want: "drop"},
		{Name: "not a number", Args: []string{"-seed", "seven"}, Want: `invalid value "seven" for flag -seed`},
		{Name: "stray argument", Args: []string{"extra"}, Want: "no arguments"},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-sync")
}

func TestTraceDrawsTheRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := runDemo(t, "-trace", dir)
	assert.Contains(t, s, filepath.Join(dir, trace.HTMLFile))

	page, err := os.ReadFile(filepath.Join(dir, trace.HTMLFile))
	require.NoError(t, err)
	for _, want := range []string{"alice", "bob", "primary", "backup", "Backup.Apply", "Primary.Put"} {
		assert.Contains(t, string(page), want)
	}
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	// tracesim draws the partition and the heal.
	assert.True(t, strings.Contains(string(events), `"kind":"partition","clock":{},"label":"{primary alice} | {backup bob}"`), "the partition is in the trace")
	assert.True(t, strings.Contains(string(events), `"kind":"heal"`), "the heal is in the trace")
	sends, receives := strings.Count(string(events), `"kind":"send"`), strings.Count(string(events), `"kind":"receive"`)
	assert.Greater(t, sends, receives, "messages lost at the cut are sends that were never received")
	_, err = os.Stat(filepath.Join(dir, trace.ShiVizFile))
	assert.NoError(t, err)
}

func TestHeavyLossIsNarratedNotFatal(t *testing.T) {
	t.Parallel()
	res, out := steps(t, config{faults: transport.Faults{Drop: 0.6, Seed: 2}})
	assert.Positive(t, res.whole.timedOut, "calls time out even before the partition\n%s", out)
	assert.False(t, res.hopeless, "a lossy network is not a lost one: the demo goes on to the end")
	assert.Zero(t, res.whole.failed+res.cut.failed+res.healed.failed, "every failure is a timeout")
}

func TestALostNetworkStopsAtOnce(t *testing.T) {
	t.Parallel()
	res, out := steps(t, config{faults: transport.Faults{Drop: 1, Seed: 1}})
	assert.True(t, res.hopeless, "it stops in step 1\n%s", out)
	assert.Equal(t, tally{timedOut: 2}, res.whole, "after two calls, neither answered")
}

func TestSameSeedSameRun(t *testing.T) {
	t.Parallel()
	args := []string{"-drop", "0.2", "-dup", "0.1", "-seed", "5"}
	assert.Equal(t, runDemo(t, args...), runDemo(t, args...))
}

func TestTraceIntoAFileFailsBeforeTheRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-trace", file}, &out, &errb)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-trace: mkdir "+file)
	assert.Empty(t, out.String(), "nothing ran")
}
