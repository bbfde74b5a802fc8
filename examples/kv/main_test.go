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

// parseArgs parses args as the program does.
func parseArgs(t *testing.T, args ...string) config {
	t.Helper()
	var cfg config
	var errb bytes.Buffer
	// run parses, then calls show: run it with a show that records the config.
	require.NoError(t, parseInto(&cfg, args, &errb), errb.String())
	return cfg
}

// runSim runs the demo with args on the simulated network in a synctest
// bubble: its delays and retry timers pass in virtual time, so the run is
// fast and replays the same way every time.
func runSim(t *testing.T, args ...string) (result, string) {
	t.Helper()
	cfg := parseArgs(t, args...)
	var res result
	var out bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		var err error
		res, err = show(context.Background(), cfg, demo.NewTracer("", ""), &out)
		require.NoError(t, err)
	})
	return res, out.String()
}

func TestAtMostOnceKeepsAppendsExactUnderLossAndDuplication(t *testing.T) {
	res, out := runSim(t, "-drop", "0.2", "-dup", "0.1", "-seed", "7", "-n", "10")
	assert.Equal(t, 30, res.marks, out)
	assert.Equal(t, 30, res.wantMarks)
	assert.Empty(t, res.twice)
	assert.Equal(t, int64(30), res.appends, "the server ran each append once")
	assert.Positive(t, res.resent, "the faults made clients resend")
	assert.Positive(t, res.cached, "duplicates were answered from the reply cache")
	assert.True(t, res.raceRefused)
	assert.Equal(t, res.wantCAS, res.cas, "compare-and-set lost no increment")
}

func TestNaiveResendsAppendTwice(t *testing.T) {
	res, out := runSim(t, "-dup", "0.1", "-seed", "3", "-n", "10", "-naive")
	assert.Greater(t, res.marks, res.wantMarks, "duplicated appends ran twice\n%s", out)
	assert.NotEmpty(t, res.twice)
	assert.Equal(t, int64(res.marks), res.appends, "every mark is an append the server ran")
	assert.Zero(t, res.cached, "no reply cache without at-most-once")
}

func TestNaiveResendsMiscountUnderLoss(t *testing.T) {
	res, out := runSim(t, "-drop", "0.2", "-dup", "0.1", "-seed", "7", "-n", "10", "-naive")
	assert.Greater(t, res.marks, res.wantMarks, "resent appends whose reply was lost ran again\n%s", out)
	assert.Positive(t, res.resent)
	assert.Greater(t, res.cas, res.wantCAS, "a resent PutIf refused by its own first copy makes the writer increment again")
}

func TestConflictingWriterIsToldToRetry(t *testing.T) {
	res, out := runSim(t, "-n", "5")
	assert.True(t, res.raceRefused, out)
	assert.Equal(t, 17, res.wantCAS, "2 from part 2, and 3 clients × 5")
	assert.Equal(t, 17, res.cas)
	// In each round one write wins and the others are refused: with three
	// clients, the rounds have 3, 3, ... then 2, then 1 writers.
	assert.Positive(t, res.refused)
}

func TestSameSeedSameRun(t *testing.T) {
	args := []string{"-drop", "0.2", "-dup", "0.1", "-seed", "5", "-n", "5", "-naive"}
	_, first := runSim(t, args...)
	_, second := runSim(t, args...)
	assert.Equal(t, first, second)
}

func TestSameSeedSameRunOnTheRealClock(t *testing.T) {
	var a, b, errb bytes.Buffer
	args := []string{"-n", "3", "-seed", "4"}
	require.NoError(t, run(context.Background(), args, &a, &errb), errb.String())
	require.NoError(t, run(context.Background(), args, &b, &errb), errb.String())
	assert.Equal(t, a.String(), b.String())
}

func TestALostNetworkStopsAtOnce(t *testing.T) {
	res, out := runSim(t, "-drop", "1")
	assert.True(t, res.gaveUp, out)
	assert.Zero(t, res.marks)
	res, out = runSim(t, "-drop", "1", "-naive")
	assert.True(t, res.gaveUp, out)
}

// runReal runs the demo with args over real sockets on 127.0.0.1 and
// checks that it stayed exact: every mark once, no increment lost.
func runReal(t *testing.T, args ...string) {
	t.Helper()
	cfg := parseArgs(t, args...)
	require.True(t, cfg.tcp, "the run uses real sockets")
	var out bytes.Buffer
	res, err := show(context.Background(), cfg, demo.NewTracer("", ""), &out)
	require.NoError(t, err)
	assert.False(t, res.gaveUp, out.String())
	assert.Equal(t, res.wantMarks, res.marks, "every append ran once\n%s", out.String())
	assert.Empty(t, res.twice)
	assert.Equal(t, res.wantCAS, res.cas, "compare-and-set lost no increment")
}

func TestOverTLSWithFaults(t *testing.T) {
	runReal(t, "-tls", "-drop", "0.1", "-n", "5", "-clients", "2")
}

func TestOverTCP(t *testing.T) {
	runReal(t, "-tcp", "-n", "5", "-clients", "2")
}

func TestTraceWritesTheDiagram(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-n", "2", "-trace", dir}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, name)
		assert.Contains(t, string(data), "KV.Append", name)
		assert.Contains(t, string(data), "client-2", name)
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
	demotest.CheckUsage(t, run, "kv", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "not a number", Args: []string{"-n", "many"}, Want: `invalid value "many" for flag -n`},
		{Name: "one client", Args: []string{"-clients", "1"}, Want: "-clients must be at least 2"},
		{Name: "no increments", Args: []string{"-n", "0"}, Want: "-n must be between 1 and 1000"},
		{Name: "negative timeout", Args: []string{"-timeout", "-1s"}, Want: "-timeout must not be negative"},
		{Name: "drop above 1", Args: []string{"-drop", "1.5"}, Want: "drop"},
		{Name: "negative delay", Args: []string{"-delay", "-1s"}, Want: "delay"},
		{Name: "stray argument", Args: []string{"extra"}, Want: `kv takes no arguments, only flags (got "extra")`},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-naive")
}

// With -dashboard the demo runs in rounds until Ctrl-C, narrating on the
// page; a lossy network set on the page costs resends, not exactness, and
// a crashed server comes back with its store.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run, "-timeout", "500ms") // calls to a crashed server give up sooner
	l.Await(t, `The server has 3 marks in log`)
	l.CheckPage(t, "kv: at-most-once retries and compare-and-set", "server", "client-1", "client-2", "client-3")
	l.CheckNarrated(t, "The server has 3 marks in log")

	l.Post(t, "api/faults", `{"drop": 0.3, "duplicate": 0.2}`)
	m := l.Await(t, `(?s)Faults changed.*?Round \d+:.*?The server has (\d+) marks in log \(the clients saw (\d+) appended\) and count = (\d+) \((\d+) increments seen\)`)
	assert.Equal(t, m[1], m[2], "each append ran once")
	assert.Equal(t, m[3], m[4], "each increment ran once")

	l.Post(t, "api/crash", `{"node": "client-2"}`)
	l.Await(t, `client-2 is down, and makes no calls`)
	l.Post(t, "api/crash", `{"node": "server"}`)
	l.Await(t, `server crashed`)
	l.Post(t, "api/restart", `{"node": "server"}`)
	l.Await(t, `(?s)server restarted.*client-1 appends "1.\d+": done`)
	l.Stop(t)
}

func TestDashboardIsRefusedOverTCP(t *testing.T) {
	demotest.CheckNoDashboard(t, run, "-tcp")
}
