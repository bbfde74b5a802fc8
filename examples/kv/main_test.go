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

	"github.com/distsys-kit/distsys/examples/internal/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runKV runs the demo with args and returns what it printed.
func runKV(tb testing.TB, args ...string) string {
	tb.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	require.NoError(tb, err, "stderr: %s\nstdout: %s", errb.String(), out.String())
	return out.String()
}

// runSim runs the demo on the simulated network in a synctest bubble: its
// delays and retry timers pass in virtual time, so the run is fast and
// replays the same way every time.
func runSim(t *testing.T, args ...string) string {
	t.Helper()
	var out string
	synctest.Test(t, func(t *testing.T) { out = runKV(t, args...) })
	return out
}

// result is one "key = got, expected want" line of the report.
type result struct {
	key       string
	got, want int
}

var resultRE = regexp.MustCompile(`(?m)^   "(\w+)" = (\d+), expected (\d+): (exact|WRONG)`)

// results returns the report lines in the order printed: hits, cas after
// part 2, cas after part 3.
func results(tb testing.TB, out string) []result {
	tb.Helper()
	var rs []result
	for _, m := range resultRE.FindAllStringSubmatch(out, -1) {
		got, _ := strconv.Atoi(m[2])
		want, _ := strconv.Atoi(m[3])
		assert.Equal(tb, got == want, m[4] == "exact", "the verdict matches the numbers: %s", m[0])
		rs = append(rs, result{m[1], got, want})
	}
	require.Len(tb, rs, 3, out)
	return rs
}

// number returns the integer that re captures in out.
func number(tb testing.TB, re *regexp.Regexp, out string) int {
	tb.Helper()
	m := re.FindStringSubmatch(out)
	require.NotNil(tb, m, "%s not in:\n%s", re, out)
	n, err := strconv.Atoi(m[1])
	require.NoError(tb, err)
	return n
}

var (
	resentRE   = regexp.MustCompile(`Clients resent (\d+) requests`)
	cachedRE   = regexp.MustCompile(`answered (\d+) copies of requests`)
	addRunsRE  = regexp.MustCompile(`the server ran KV.Add (\d+) times`)
	hitsWanted = result{"hits", 30, 30}
)

func TestAtMostOnceKeepsCountsExactUnderLossAndDuplication(t *testing.T) {
	out := runSim(t, "-drop", "0.2", "-dup", "0.1", "-seed", "7", "-n", "10")
	rs := results(t, out)
	assert.Equal(t, []result{hitsWanted, {"cas", 2, 2}, {"cas", 32, 32}}, rs, out)
	assert.Equal(t, 30, number(t, addRunsRE, out), "the server ran each Add once")
	assert.Positive(t, number(t, resentRE, out), "the faults made clients resend")
	assert.Positive(t, number(t, cachedRE, out), "duplicates were answered from the reply cache")
	assert.NotContains(t, out, "WRONG")
}

func TestNaiveRetriesCountDuplicatesTwice(t *testing.T) {
	// Seed 3 duplicates several KV.Add requests: each copy runs.
	out := runSim(t, "-dup", "0.1", "-seed", "3", "-n", "10", "-naive")
	rs := results(t, out)
	assert.Greater(t, rs[0].got, rs[0].want, "hits: duplicated Adds ran twice\n%s", out)
	assert.Equal(t, rs[0].got, number(t, addRunsRE, out), "the count is the number of times Add ran")
	assert.Zero(t, number(t, cachedRE, out), "no reply cache without at-most-once")
	assert.Contains(t, out, "WRONG")
}

func TestNaiveRetriesMiscountUnderLoss(t *testing.T) {
	out := runSim(t, "-drop", "0.2", "-dup", "0.1", "-seed", "7", "-n", "10", "-naive")
	rs := results(t, out)
	assert.Greater(t, rs[0].got, rs[0].want, "hits: resent Adds whose reply was lost ran again\n%s", out)
	assert.Positive(t, number(t, resentRE, out), "losses made clients resend")
	// Part 3 usually goes wrong too (a resent Put refused by its own first
	// copy makes the writer increment again), but the clients race there,
	// and the scheduler decides whether a lost reply falls on a Put.
}

func TestConflictingWriterIsToldToRetry(t *testing.T) {
	out := runSim(t, "-n", "5")
	assert.Contains(t, out, "client-1 puts 1 at version 0: accepted")
	assert.Contains(t, out, "client-2 puts 1 at version 0: refused, with the error\n"+
		`      rpc: KV.Put: put "cas" at version 0, but it is at 1: kv: version changed since it was read: read again and retry`)
	assert.Contains(t, out, "errors.Is(err, errConflict) holds on client-2")
	rs := results(t, out)
	assert.Equal(t, []result{{"hits", 15, 15}, {"cas", 2, 2}, {"cas", 17, 17}}, rs)
}

func TestSameSeedSameRun(t *testing.T) {
	// Parts 1 and 2 replay exactly with the seed; in part 3 the clients
	// race each other, and who wins each race is up to the scheduler.
	args := []string{"-drop", "0.2", "-dup", "0.1", "-seed", "5", "-n", "5", "-naive"}
	first, _, ok := strings.Cut(runSim(t, args...), "\n3. ")
	require.True(t, ok)
	second, _, ok := strings.Cut(runSim(t, args...), "\n3. ")
	require.True(t, ok)
	assert.Equal(t, first, second)
	assert.Contains(t, first, "WRONG", "seed 5 shows the naive client's mistakes in parts 1 and 2")
}

func TestOverTLSWithFaults(t *testing.T) {
	out := runKV(t, "-tls", "-drop", "0.1", "-n", "5", "-clients", "2")
	assert.Contains(t, out, "over TLS on 127.0.0.1:")
	assert.Equal(t, []result{{"hits", 10, 10}, {"cas", 2, 2}, {"cas", 12, 12}}, results(t, out))
}

func TestOverTCP(t *testing.T) {
	out := runKV(t, "-tcp", "-n", "5", "-clients", "2")
	assert.Contains(t, out, "over TCP on 127.0.0.1:")
	assert.Equal(t, []result{{"hits", 10, 10}, {"cas", 2, 2}, {"cas", 12, 12}}, results(t, out))
}

func TestTraceWritesTheDiagram(t *testing.T) {
	dir := t.TempDir()
	out := runSim(t, "-n", "2", "-trace", dir)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Contains(t, string(data), "KV.Add", name)
		assert.Contains(t, string(data), "client-2", name)
	}
}

func TestBadFlagsAreExplained(t *testing.T) {
	demotest.CheckUsage(t, run, "kv", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "not a number", Args: []string{"-n", "many"}, Want: `invalid value "many" for flag -n`},
		{Name: "one client", Args: []string{"-clients", "1"}, Want: "-clients must be at least 2"},
		{Name: "no increments", Args: []string{"-n", "0"}, Want: "-n must be at least 1"},
		{Name: "drop above 1", Args: []string{"-drop", "1.5"}, Want: "drop"},
		{Name: "negative delay", Args: []string{"-delay", "-1s"}, Want: "delay"},
		{Name: "stray argument", Args: []string{"extra"}, Want: `kv takes no arguments, only flags (got "extra")`},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-naive")
}
