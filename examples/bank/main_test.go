package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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

// runBank runs the demo with args in a synctest bubble, where the
// simulated network's delays, the leases and the retries pass in virtual
// time: the run is fast. It returns what the run showed and printed.
func runBank(t *testing.T, args ...string) (outcome, string) {
	t.Helper()
	var errb, out bytes.Buffer
	cfg, _, ok, err := parse(args, &errb)
	require.True(t, ok, "%v: %s", err, errb.String())
	var o outcome
	synctest.Test(t, func(t *testing.T) {
		o, err = show(context.Background(), cfg, demo.NewTracer("", ""), &out)
		require.NoError(t, err)
	})
	return o, out.String()
}

func TestWithoutLocksMoneyAppearsOrVanishes(t *testing.T) {
	for _, seed := range []string{"1", "2", "3"} {
		t.Run("seed "+seed, func(t *testing.T) {
			o, out := runBank(t, "-seed", seed, "-transfers", "40")
			assert.Equal(t, 8*startBalance, o.before[0])
			assert.NotEqual(t, o.before[0], o.after[0], "phase 1 shows the race\n%s", out)
			assert.Positive(t, o.overwrites[0], "updates were lost")
		})
	}
}

func TestWithTheLockTheTotalIsConserved(t *testing.T) {
	o, out := runBank(t, "-seed", "3", "-transfers", "40")
	assert.Equal(t, o.before[1], o.after[1], "phase 2 conserves the total\n%s", out)
	assert.Zero(t, o.overwrites[1], "no lost update")
	assert.Equal(t, uint64(40), o.newest, "one lease per transfer")
}

func TestWithTheLockOnALossyNetwork(t *testing.T) {
	for _, seed := range []string{"7", "8"} {
		o, out := runBank(t, "-seed", seed, "-drop", "0.2", "-dup", "0.1", "-transfers", "30", "-workers", "3", "-accounts", "5")
		assert.False(t, o.gaveUp, out)
		assert.Equal(t, 5*startBalance, o.after[1], "phase 2 under faults\n%s", out)
		assert.Zero(t, o.overwrites[1])
		assert.True(t, o.carolRefused)
	}
}

func TestHeavyLossEndsInASentenceNotAnError(t *testing.T) {
	o, out := runBank(t, "-drop", "0.4", "-transfers", "12")
	if !o.gaveUp {
		assert.True(t, o.carolRefused, out)
		assert.Equal(t, 8*startBalance, o.after[1])
	}
	o, out = runBank(t, "-drop", "1")
	assert.True(t, o.gaveUp, "nothing gets through: the run stops\n%s", out)
}

func TestOneTellerLosesNothing(t *testing.T) {
	o, out := runBank(t, "-workers", "1", "-transfers", "20")
	assert.Equal(t, o.before[0], o.after[0], "no concurrency, no race\n%s", out)
	assert.Zero(t, o.overwrites[0])
}

func TestPausedExHolderIsRefusedByItsToken(t *testing.T) {
	o, out := runBank(t, "-transfers", "10", "-accounts", "3")
	assert.Greater(t, o.dave, o.carol, "the next holder's token is newer\n%s", out)
	assert.True(t, o.carolRefused, "carol's write is refused")
	assert.Equal(t, 3*startBalance, o.total3, "conserved")
	assert.Equal(t, 3*startBalance+25, o.wouldBe3, "dave's 25 would exist twice")
}

func TestSameSeedSameRun(t *testing.T) {
	args := []string{"-seed", "5", "-transfers", "24", "-drop", "0.1"}
	_, first := runBank(t, args...)
	_, second := runBank(t, args...)
	assert.Equal(t, first, second)
}

func TestSameSeedSameRunOnTheRealClock(t *testing.T) {
	var a, b, errb bytes.Buffer
	args := []string{"-seed", "2", "-transfers", "12"}
	require.NoError(t, run(context.Background(), args, &a, &errb), errb.String())
	require.NoError(t, run(context.Background(), args, &b, &errb), errb.String())
	assert.Equal(t, a.String(), b.String())
}

func TestTraceWritesTheDiagram(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-transfers", "6", "-workers", "2", "-trace", dir}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		for _, want := range []string{"Bank.Write", "teller-2", "carol", "locks"} {
			assert.Contains(t, string(data), want, name)
		}
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
	demotest.CheckUsage(t, run, "bank", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "not a number", Args: []string{"-workers", "many"}, Want: `invalid value "many" for flag -workers`},
		{Name: "two accounts", Args: []string{"-accounts", "2"}, Want: "-accounts must be between 3 and 1000"},
		{Name: "no transfers", Args: []string{"-transfers", "0"}, Want: "-transfers must be between 1 and 100000"},
		{Name: "no workers", Args: []string{"-workers", "0"}, Want: "-workers between 1 and 100"},
		{Name: "drop above 1", Args: []string{"-drop", "1.5"}, Want: "drop"},
		{Name: "negative jitter", Args: []string{"-jitter", "-1ms"}, Want: "jitter"},
		{Name: "stray argument", Args: []string{"extra"}, Want: `bank takes no arguments, only flags (got "extra")`},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-transfers")
}
