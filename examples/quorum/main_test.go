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

// tallies runs the demo with args in a synctest bubble, so that its
// timeouts and retries pass in virtual time, and returns what each
// configuration showed and what was printed.
func tallies(t *testing.T, args ...string) ([]tally, string) {
	t.Helper()
	var errb, out bytes.Buffer
	cfg, _, ok, err := parse(args, &errb)
	require.True(t, ok, "%v: %s", err, errb.String())
	var got []tally
	synctest.Test(t, func(t *testing.T) {
		got, err = show(context.Background(), cfg, demo.NewTracer("", ""), &out)
		require.NoError(t, err)
	})
	return got, out.String()
}

func TestSmallQuorumsReadStaleValues(t *testing.T) {
	got, out := tallies(t)
	require.Len(t, got, 2, "R=W=1, then majorities")
	assert.Equal(t, tally{r: 1, w: 1, reads: 8, stale: 5}, got[0], out)
	assert.Equal(t, tally{r: 2, w: 2, reads: 8}, got[1], out)
}

func TestOverlappingQuorumsNeverReadStale(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"N=3 R=2 W=2", []string{"-n", "3", "-r", "2", "-w", "2"}},
		{"N=5 R=2 W=4", []string{"-n", "5", "-r", "2", "-w", "4"}},
		{"N=5 R=3 W=3 lossy", []string{"-n", "5", "-r", "3", "-w", "3", "-drop", "0.2", "-dup", "0.1"}},
		{"N=3 R=3 W=1", []string{"-n", "3", "-r", "3", "-w", "1", "-drop", "0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, seed := range []string{"1", "2", "3", "4"} {
				got, out := tallies(t, append(tt.args, "-seed", seed, "-rounds", "12")...)
				require.Len(t, got, 1)
				assert.Positive(t, got[0].reads, "seed %s", seed)
				assert.Zero(t, got[0].stale, "seed %s\n%s", seed, out)
			}
		})
	}
}

func TestNonOverlappingQuorumsReadStaleOnSomeSeed(t *testing.T) {
	stale := 0
	for _, seed := range []string{"1", "2", "3"} {
		got, _ := tallies(t, "-n", "5", "-r", "2", "-w", "3", "-seed", seed)
		stale += got[0].stale
	}
	assert.Positive(t, stale, "R + W = N: a read can miss the write")
}

func TestSameSeedSameRun(t *testing.T) {
	args := []string{"-n", "5", "-drop", "0.2", "-dup", "0.1", "-seed", "3"}
	_, first := tallies(t, args...)
	_, second := tallies(t, args...)
	assert.Equal(t, first, second)
}

func TestSameSeedSameRunOnTheRealClock(t *testing.T) {
	var a, b, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-seed", "5"}, &a, &errb), errb.String())
	require.NoError(t, run(context.Background(), []string{"-seed", "5"}, &b, &errb), errb.String())
	assert.Equal(t, a.String(), b.String())
}

func TestALostNetworkStopsAtOnce(t *testing.T) {
	got, out := tallies(t, "-drop", "1")
	require.Len(t, got, 1, "the second configuration is not tried\n%s", out)
	assert.True(t, got[0].hopeless)
	assert.Zero(t, got[0].reads)
}

func TestTraceWritesTheDiagram(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-rounds", "2", "-trace", dir}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), filepath.Join(dir, trace.HTMLFile))
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	for _, want := range []string{"Replica.Put", "Replica.Get", "r1", "r3", "round 2"} {
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
	demotest.CheckUsage(t, run, "quorum", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "no replicas", Args: []string{"-n", "0"}, Want: "-n must be between 1 and 9"},
		{Name: "r without w", Args: []string{"-r", "2"}, Want: "give both -r and -w, or neither"},
		{Name: "r above n", Args: []string{"-r", "4", "-w", "1"}, Want: "-r and -w must be between 1 and -n (3)"},
		{Name: "no rounds", Args: []string{"-rounds", "0"}, Want: "-rounds must be between 1 and 1000"},
		{Name: "bad drop", Args: []string{"-drop", "2"}, Want: "drop"},
		{Name: "stray argument", Args: []string{"x"}, Want: `quorum takes no arguments, only flags (got "x")`},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-w")
}

// With -dashboard the demo runs in rounds until Ctrl-C, narrating on the
// page; majority quorums survive one replica crashed on the page, and fail
// with two.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run, "-timeout", "300ms")
	l.Await(t, `Round 1: +write x=1 to \S+ +read \S+ +-> x=1 +fresh`)
	l.CheckPage(t, "quorum: reads and writes with N, R, W", "client", "r1", "r2", "r3")
	l.CheckNarrated(t, "R + W = 4 > N")

	l.Post(t, "api/crash", `{"node": "r1"}`)
	l.Await(t, `(?s)r1 crashed.*?Round \d+: +write x=\d+ to r[23],r[23] +read r[23],r[23] +-> x=\d+ +fresh`)
	l.Post(t, "api/crash", `{"node": "r2"}`)
	l.Await(t, `(?s)r2 crashed.*?Round \d+:.*WRITE FAILED: 1 of W=2 answered`)
	l.Post(t, "api/restart", `{"node": "r1"}`)
	l.Await(t, `(?s)r1 restarted.*?Round \d+: +write x=\d+ to r[13],r[13] .*fresh`)
	l.Stop(t)
}
