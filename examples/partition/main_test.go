package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// story is a run's output, cut into its three steps.
type story struct {
	all, whole, split, healed string
}

// runDemo runs the demo with args in a synctest bubble, so that its
// timeouts pass in virtual time, and returns what it printed.
func runDemo(t *testing.T, args ...string) story {
	t.Helper()
	var out, errb bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
	})
	s := out.String()
	i, j := strings.Index(s, "\n2. "), strings.Index(s, "\n3. ")
	require.True(t, i > 0 && j > i, "the three steps are narrated:\n%s", s)
	return story{all: s, whole: s[:i], split: s[i:j], healed: s[j:]}
}

var (
	summaryRE = regexp.MustCompile(`Summary: (\d+) calls answered, (\d+) timed out, (\d+) refused, (\d+) failed otherwise; reads at the backup: (\d+) fresh, (\d+) stale\.`)
	lostRE    = regexp.MustCompile(`netsim: (\d+) messages lost so far`)
	faultsRE  = regexp.MustCompile(`netsim lost (\d+) messages to the (?:partition|crash) and (\d+) to the faults`)
)

// summary returns the numbers of the summary line: answered, timed out,
// refused, failed, fresh, stale.
func summary(t *testing.T, s story) []int {
	t.Helper()
	m := summaryRE.FindStringSubmatch(s.all)
	require.NotNil(t, m, s.all)
	return atoi(t, m[1:])
}

func atoi(t *testing.T, ss []string) []int {
	t.Helper()
	ns := make([]int, len(ss))
	for i, s := range ss {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		ns[i] = n
	}
	return ns
}

// lostAtCut returns how many messages the narration says the network lost
// during step 2.
func lostAtCut(t *testing.T, s story) int {
	t.Helper()
	m := lostRE.FindStringSubmatch(s.split)
	require.NotNil(t, m, s.split)
	return atoi(t, m[1:])[0]
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
	s := runDemo(t, "-drop", "0.2", "-dup", "0.1", "-seed", "7")

	m := faultsRE.FindStringSubmatch(s.all)
	require.NotNil(t, m, s.all)
	lost := atoi(t, m[1:])
	assert.Positive(t, lost[0], "messages lost to the partition")
	assert.Positive(t, lost[1], "messages lost to -drop")
	assert.Contains(t, s.split, "bob   put y=2 at the primary: TIMED OUT", "no retry crosses a partition")
	assert.NotContains(t, s.healed, "STALE", "after the heal the backup has caught up")
	assert.NotContains(t, s.all, "FAILED")
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
	assert.Contains(t, s.all, filepath.Join(dir, trace.HTMLFile))

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
	s := runDemo(t, "-drop", "0.6", "-seed", "2")
	assert.Contains(t, s.whole, "TIMED OUT: no reply within 400ms", "calls time out even before the partition")
	assert.NotContains(t, s.all, "Not one message has been delivered", "a lossy network is not a lost one")
	assert.Contains(t, s.all, "Summary:", "the demo goes on to the end")
	assert.NotContains(t, s.all, "FAILED")
}

func TestALostNetworkStopsAtOnce(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		require.NoError(t, run(context.Background(), []string{"-drop", "1"}, &out, &errb), errb.String())
	})
	assert.Equal(t, 2, strings.Count(out.String(), "TIMED OUT"), "it stops after two calls\n%s", out.String())
	assert.NotContains(t, out.String(), "Summary:")
	assert.NotContains(t, out.String(), "got through", "nothing got through")
}

func TestSameSeedSameRun(t *testing.T) {
	t.Parallel()
	args := []string{"-drop", "0.2", "-dup", "0.1", "-seed", "5"}
	assert.Equal(t, runDemo(t, args...).all, runDemo(t, args...).all)
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
