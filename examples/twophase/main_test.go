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

// runShow runs the demo with args in a synctest bubble, so that its
// timeouts pass in virtual time, and returns what it showed and printed.
func runShow(t *testing.T, args ...string) (outcome, string) {
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

func TestCrashAfterTheDecisionBlocksUntilRecoveryCommits(t *testing.T) {
	o, out := runShow(t)
	assert.Equal(t, []string{"commit", "abort", "commit"}, o.decisions, out)
	assert.Len(t, o.lockedAfter, 2, "both banks hold T3's locks while the coordinator is down")
	assert.Empty(t, o.asked, "the crashed coordinator does not answer")
	assert.ErrorIs(t, o.deposit, errLocked, "the deposit waits behind T3's lock")
	assert.True(t, o.deposited, "and goes through once recovery has finished T3")
	assert.Equal(t, 155, o.total, "150, and the deposit")
}

func TestCrashBeforeTheDecisionIsAbortedByRecovery(t *testing.T) {
	o, out := runShow(t, "-crash", "prepare")
	assert.Equal(t, []string{"commit", "abort", "abort"}, o.decisions, out)
	assert.Len(t, o.lockedAfter, 2)
	assert.ErrorIs(t, o.deposit, errLocked)
	assert.Equal(t, 155, o.total)
}

func TestWithoutACrashNobodyWaits(t *testing.T) {
	o, out := runShow(t, "-crash", "none")
	assert.Equal(t, []string{"commit", "abort", "commit"}, o.decisions, out)
	assert.Empty(t, o.lockedAfter)
	assert.False(t, o.deposited, "no deposit is tried")
	assert.Equal(t, 150, o.total)
}

func TestMoneyIsConservedOnALossyNetwork(t *testing.T) {
	for _, seed := range []string{"1", "2", "3", "4", "5"} {
		for _, crash := range []string{"decision", "prepare"} {
			o, out := runShow(t, "-drop", "0.3", "-dup", "0.1", "-seed", seed, "-crash", crash)
			want := 150
			if o.deposited {
				want += 5
			}
			assert.False(t, o.inDoubt, "seed %s crash %s\n%s", seed, crash, out)
			assert.Equal(t, want, o.total, "seed %s crash %s\n%s", seed, crash, out)
			assert.Len(t, o.decisions, 3)
		}
	}
}

func TestALostNetworkStopsAtOnce(t *testing.T) {
	o, out := runShow(t, "-drop", "1")
	assert.True(t, o.hopeless, out)
	assert.Equal(t, []string{"abort"}, o.decisions)
}

func TestSameSeedSameRun(t *testing.T) {
	args := []string{"-drop", "0.2", "-dup", "0.1", "-seed", "3"}
	_, first := runShow(t, args...)
	_, second := runShow(t, args...)
	assert.Equal(t, first, second)
}

func TestSameSeedSameRunOnTheRealClock(t *testing.T) {
	var a, b, errb bytes.Buffer
	args := []string{"-crash", "none", "-seed", "4"}
	require.NoError(t, run(context.Background(), args, &a, &errb), errb.String())
	require.NoError(t, run(context.Background(), args, &b, &errb), errb.String())
	assert.Equal(t, a.String(), b.String())
}

func TestTraceWritesTheDiagram(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-crash", "none", "-trace", dir}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), filepath.Join(dir, trace.HTMLFile))
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	for _, want := range []string{"Bank.Prepare", "Bank.Commit", "Bank.Abort", "coord", "bank-b"} {
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
	demotest.CheckUsage(t, run, "twophase", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "bad crash", Args: []string{"-crash", "commit"}, Want: `-crash must be decision, prepare or none, not "commit"`},
		{Name: "negative timeout", Args: []string{"-timeout", "-1s"}, Want: "-timeout must not be negative"},
		{Name: "negative decide", Args: []string{"-decide", "-1s"}, Want: "-decide must not be negative"},
		{Name: "bad drop", Args: []string{"-drop", "2"}, Want: "drop"},
		{Name: "stray argument", Args: []string{"x"}, Want: `twophase takes no arguments, only flags (got "x")`},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-crash")
}

// With -dashboard the demo runs a transfer a round until Ctrl-C, narrating
// on the page; with the coordinator crashed on the page no transfer
// starts, and once it restarts it recovers from its log and the transfers
// go on, the money conserved.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	// The coordinator waits for the crash (-decide 1m) once T1's votes are in.
	l := demotest.StartLive(t, run, "-timeout", "300ms", "-decide", "1m")
	l.Await(t, `Round 1: T1 moves 10 from alice to bob.\n(?s:.*)The votes are in`)
	l.CheckPage(t, "twophase: two-phase commit, a crash and a recovery", "bank-a", "coord", "bank-b")
	l.CheckNarrated(t, "coord -> bank-a, bank-b: prepare T1")

	l.Post(t, "api/crash", `{"node": "coord"}`)
	l.Await(t, `the coordinator is down, and has logged no decision`)
	l.Await(t, `bank-a holds alice's lock for T1, which it voted YES on; it asks the coordinator: no answer`)
	l.Await(t, `A deposit of 5 into alice's account waits for her lock`)
	l.Await(t, `(?s)coord crashed.*Round \d+: the coordinator is down: no transfer starts`)
	l.Post(t, "api/restart", `{"node": "coord"}`)
	l.Await(t, `(?s)The coordinator starts with nothing but its log.*the log has T1 begin, and no decision: nobody can have committed it, so abort it.*coord -> bank-a, bank-b: abort T1; acknowledged by 2 of 2`)
	l.Await(t, `(?s)abort T1; acknowledged.*The votes are in`)
	l.Stop(t)
}
