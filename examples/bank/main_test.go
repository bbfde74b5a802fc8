package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/internal/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runBank runs the demo with args in a synctest bubble, where the
// simulated network's delays, the leases and the retries pass in virtual
// time: the run is fast, and the same seed replays it exactly.
func runBank(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		err := run(context.Background(), args, &out, &errb)
		require.NoError(t, err, "stderr: %s\nstdout: %s", errb.String(), out.String())
	})
	return out.String()
}

// phase is what the demo says about phase 1 or 2.
type phase struct {
	before, after int // the totals
	overwrites    int // lost updates
}

var (
	totalRE     = regexp.MustCompile(`Total before: (\d+)\. Total after: (\d+): (conserved|WRONG, (\d+) (vanished|appeared out of nowhere))\.`)
	overwriteRE = regexp.MustCompile(`(\d+) times a write overwrote`)
	refusedRE   = regexp.MustCompile(`The bank refuses it: rpc: Bank.Write: write with token (\d+), but the bank has seen token (\d+): lock: stale fencing token`)
	grantRE     = regexp.MustCompile(`carol takes the lock: token (\d+),[\s\S]*dave gets the lock with token (\d+)`)
)

// phases returns what the demo says about phases 1 and 2, checking that
// each verdict agrees with its numbers.
func phases(t *testing.T, out string) [2]phase {
	t.Helper()
	totals := totalRE.FindAllStringSubmatch(out, -1)
	overwrites := overwriteRE.FindAllStringSubmatch(out, -1)
	require.Len(t, totals, 2, out)
	require.Len(t, overwrites, 2, out)
	var ps [2]phase
	for i := range ps {
		ps[i] = phase{atoi(t, totals[i][1]), atoi(t, totals[i][2]), atoi(t, overwrites[i][1])}
		change := ps[i].after - ps[i].before
		switch totals[i][5] {
		case "":
			assert.Zero(t, change, "said conserved: %s", totals[i][0])
		case "vanished":
			assert.Equal(t, -change, atoi(t, totals[i][4]), totals[i][0])
		default:
			assert.Equal(t, change, atoi(t, totals[i][4]), totals[i][0])
		}
		if ps[i].overwrites == 0 {
			assert.Zero(t, change, "phase %d: money can only appear or vanish through a lost update", i+1)
		}
	}
	return ps
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	require.NoError(t, err)
	return n
}

func TestWithoutLocksMoneyAppearsOrVanishes(t *testing.T) {
	for _, seed := range []string{"1", "2", "3"} {
		t.Run("seed "+seed, func(t *testing.T) {
			out := runBank(t, "-seed", seed, "-transfers", "40")
			ps := phases(t, out)
			assert.Equal(t, 8*startBalance, ps[0].before)
			assert.NotEqual(t, ps[0].before, ps[0].after, "phase 1 shows the race\n%s", out)
			assert.Positive(t, ps[0].overwrites, "updates were lost")
			assert.Contains(t, out, "WRONG")
		})
	}
}

func TestWithTheLockTheTotalIsConserved(t *testing.T) {
	out := runBank(t, "-seed", "3", "-transfers", "40")
	ps := phases(t, out)
	assert.Equal(t, phase{800, 800, 0}, ps[1], "phase 2: no lost update, total conserved\n%s", out)
	assert.Contains(t, out, "The newest fencing token the bank saw is 40.", "one lease per transfer")
}

func TestWithTheLockOnALossyNetwork(t *testing.T) {
	out := runBank(t, "-seed", "7", "-drop", "0.2", "-dup", "0.1", "-transfers", "30", "-workers", "3", "-accounts", "5")
	ps := phases(t, out)
	assert.Equal(t, phase{500, 500, 0}, ps[1], "phase 2 under faults\n%s", out)
	assert.Regexp(t, refusedRE, out)
}

func TestOneTellerLosesNothing(t *testing.T) {
	out := runBank(t, "-workers", "1", "-transfers", "20")
	ps := phases(t, out)
	assert.Equal(t, phase{800, 800, 0}, ps[0], "no concurrency, no race\n%s", out)
}

func TestPausedExHolderIsRefusedByItsToken(t *testing.T) {
	out := runBank(t, "-transfers", "10", "-accounts", "3")
	assert.Contains(t, out, "carol's lease ends while she is paused: lock: lease expired before it could be renewed")

	m := grantRE.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	carol, dave := atoi(t, m[1]), atoi(t, m[2])
	assert.Greater(t, dave, carol, "the next holder's token is newer")

	r := refusedRE.FindStringSubmatch(out)
	require.NotNil(t, r, "carol's write is refused\n%s", out)
	assert.Equal(t, carol, atoi(t, r[1]), "the refused write carries carol's token")
	assert.Equal(t, dave, atoi(t, r[2]), "the bank had seen dave's")
	assert.Contains(t, out, "Total: 300, conserved; acct-2 = 75, as dave left it.")
	assert.Contains(t, out, "a total of 325.")
}

func TestSameSeedSameRun(t *testing.T) {
	args := []string{"-seed", "5", "-transfers", "24", "-drop", "0.1"}
	assert.Equal(t, runBank(t, args...), runBank(t, args...))
}

func TestTraceWritesTheDiagram(t *testing.T) {
	dir := t.TempDir()
	out := runBank(t, "-transfers", "6", "-workers", "2", "-trace", dir)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		for _, want := range []string{"Bank.Write", "teller-2", "carol", "locks"} {
			assert.Contains(t, string(data), want, name)
		}
	}
}

func TestBadFlagsAreExplained(t *testing.T) {
	demotest.CheckUsage(t, run, "bank", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "not a number", Args: []string{"-workers", "many"}, Want: `invalid value "many" for flag -workers`},
		{Name: "two accounts", Args: []string{"-accounts", "2"}, Want: "-accounts must be at least 3"},
		{Name: "no transfers", Args: []string{"-transfers", "0"}, Want: "-transfers and -workers must be at least 1"},
		{Name: "no workers", Args: []string{"-workers", "0"}, Want: "-transfers and -workers must be at least 1"},
		{Name: "drop above 1", Args: []string{"-drop", "1.5"}, Want: "drop"},
		{Name: "negative jitter", Args: []string{"-jitter", "-1ms"}, Want: "jitter"},
		{Name: "stray argument", Args: []string{"extra"}, Want: `bank takes no arguments, only flags (got "extra")`},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-transfers")
}
