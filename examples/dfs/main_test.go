package main

import (
	"bytes"
	"context"
	"io"
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

// counts are the numbers of a report, in one comparable row.
type counts struct {
	aliceOpens, aliceHits, aliceFetches, aliceStale, aliceCallbacks int
	bobOpens, bobHits, bobFetches, bobStale                         int
	fetches, stores, callbacks, undelivered                         int
	cached, opens                                                   int
	messages, lost                                                  int
}

func countsOf(r report) counts {
	a, b, srv := r.alice, r.bob, r.server
	return counts{a.Opens, a.Hits, a.Fetches, r.aliceStale, a.Breaks,
		b.Opens, b.Hits, b.Fetches, r.bobStale,
		srv.Fetches, srv.Stores, srv.Broken, srv.Unreachable,
		a.Hits + b.Hits, a.Opens + b.Opens,
		int(r.messages), int(r.lost)}
}

// tell runs the demo with cfg (defaults() changed by the test, as flags
// would) in a synctest bubble and returns its report, and the narration
// for failure messages.
func tell(t *testing.T, cfg config) (report, string) {
	t.Helper()
	cfg.timeout = demo.ReplyTimeout(cfg.timeout, cfg.faults)
	var out bytes.Buffer
	var r report
	synctest.Test(t, func(t *testing.T) {
		var err error
		r, err = dfs(context.Background(), cfg, demo.NewTracer("", ""), &out)
		require.NoError(t, err)
	})
	return r, out.String()
}

// summary runs the demo with cfg to its end and returns its counts.
func summary(t *testing.T, cfg config) counts {
	t.Helper()
	r, out := tell(t, cfg)
	require.False(t, r.gaveUp, out)
	return countsOf(r)
}

// changed returns defaults() changed by f.
func changed(f func(*config)) config {
	cfg := defaults()
	f(&cfg)
	return cfg
}

func TestCacheCounts(t *testing.T) {
	tests := []struct {
		name string
		cfg  config
		want counts // messages and lost are checked apart
	}{
		{
			name: "callbacks keep every read fresh",
			cfg:  defaults(),
			// alice: 9 opens, a fetch after each of bob's 2 writes; bob: a fetch, then a hit.
			want: counts{9, 6, 3, 0, 2, 2, 1, 1, 0, 4, 2, 2, 0, 7, 11, 0, 0},
		},
		{
			name: "without callbacks alice reads stale copies",
			cfg:  changed(func(c *config) { c.nocallbacks = true }),
			// alice fetches once and reads version 1 for ever: 3 stale reads after each write.
			want: counts{9, 8, 1, 6, 0, 2, 1, 1, 0, 2, 2, 0, 0, 9, 11, 0, 0},
		},
		{
			name: "more opens save more fetches",
			cfg:  changed(func(c *config) { c.opens, c.rounds = 5, 3 }),
			want: counts{20, 16, 4, 0, 3, 3, 2, 1, 0, 5, 3, 3, 0, 18, 23, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := summary(t, tt.cfg)
			assert.Positive(t, got.messages)
			got.messages = 0
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCallbacksCostMessagesAndBuyFreshReads(t *testing.T) {
	t.Parallel()
	with, without := summary(t, defaults()), summary(t, changed(func(c *config) { c.nocallbacks = true }))
	assert.Zero(t, with.aliceStale)
	assert.Equal(t, 2, with.callbacks, "one callback per write of bob's")
	assert.Equal(t, 6, without.aliceStale, "every open after a write, without callbacks")
	assert.Greater(t, with.messages, without.messages, "callbacks cost messages")
}

func TestLossyNetworkKeepsTheCountsExact(t *testing.T) {
	t.Parallel()
	got := summary(t, changed(func(c *config) { c.faults.Drop, c.faults.Duplicate, c.faults.Seed = 0.2, 0.1, 7 }))
	assert.Positive(t, got.lost, "the faults hit")
	// Retries with at-most-once execution: every call ran once, as on a
	// perfect network.
	got.messages, got.lost = 0, 0
	assert.Equal(t, counts{9, 6, 3, 0, 2, 2, 1, 1, 0, 4, 2, 2, 0, 7, 11, 0, 0}, got)
}

func TestBadFlagsAreExplained(t *testing.T) {
	demotest.CheckUsage(t, run, "dfs", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "no opens", Args: []string{"-opens", "0"}, Want: "-opens and -rounds must be at least 1"},
		{Name: "no rounds", Args: []string{"-rounds", "-2"}, Want: "-opens and -rounds must be at least 1"},
		{Name: "negative timeout", Args: []string{"-timeout", "-1s"}, Want: "-timeout must not be negative"},
		{Name: "bad drop", Args: []string{"-drop", "1.5"}, Want: "drop"},
		{Name: "not a duration", Args: []string{"-delay", "soon"}, Want: `invalid value "soon" for flag -delay`},
		{Name: "stray argument", Args: []string{"notes.txt"}, Want: "no arguments"},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-nocallbacks")
}

func TestTraceDrawsTheRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := runDemo(t, "-trace", dir)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))

	page, err := os.ReadFile(filepath.Join(dir, trace.HTMLFile))
	require.NoError(t, err)
	for _, want := range []string{"alice", "bob", "server", "Files.Fetch", "Files.Store", "Callback.Break"} {
		assert.Contains(t, string(page), want)
	}
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	// 4 fetches, 2 stores and 2 callbacks, each a request and a reply.
	assert.Equal(t, 16, strings.Count(string(events), `"kind":"send"`))
	assert.Equal(t, 16, strings.Count(string(events), `"kind":"receive"`))
	_, err = os.Stat(filepath.Join(dir, trace.ShiVizFile))
	assert.NoError(t, err)
}

func TestLostCallbacksAreBlamedForStaleReads(t *testing.T) {
	t.Parallel()
	r, out := tell(t, changed(func(c *config) { c.faults.Drop, c.faults.Seed = 0.5, 1 }))
	require.False(t, r.gaveUp, out)
	assert.Positive(t, r.aliceStale, "seed 1 loses a callback, and alice reads stale copies\n%s", out)
	assert.Positive(t, r.server.Unreachable, "the server knows it could not call back")
}

func TestALostNetworkStopsAtOnce(t *testing.T) {
	t.Parallel()
	r, out := tell(t, changed(func(c *config) { c.faults.Drop = 1 }))
	assert.True(t, r.gaveUp, "the demo stopped early\n%s", out)
	assert.Equal(t, 2, r.failed, "after the first two calls")
}

func TestSameSeedSameRun(t *testing.T) {
	t.Parallel()
	args := []string{"-drop", "0.3", "-dup", "0.1", "-seed", "5"}
	assert.Equal(t, runDemo(t, args...), runDemo(t, args...))
}

// On the real clock, a machine busy enough to delay a reply past the
// client's first resend adds a message to netsim's count; everything else
// replays.
func TestSameSeedSameRunOnTheRealClock(t *testing.T) {
	cfg := changed(func(c *config) { c.faults.Seed = 3 })
	cfg.timeout = demo.ReplyTimeout(0, cfg.faults)
	var reports [2]report
	for i := range reports {
		var err error
		reports[i], err = dfs(context.Background(), cfg, demo.NewTracer("", ""), io.Discard)
		require.NoError(t, err)
		reports[i].messages = 0
	}
	assert.Equal(t, reports[0], reports[1])
}

func TestHeavyLossIsNarratedNotFatal(t *testing.T) {
	t.Parallel()
	r, out := tell(t, changed(func(c *config) { c.faults.Drop, c.faults.Seed = 0.6, 2 }))
	assert.Positive(t, r.failed, "some calls got no answer in time\n%s", out)
	assert.False(t, r.gaveUp, "the demo goes on to the end")
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

// With -dashboard the demo runs in rounds until Ctrl-C, narrating on the
// page, and the page's clicks change what the clients see: alice cut off
// misses her callback and reads STALE; a crashed server comes back with
// its files.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run)
	l.Await(t, `alice open: fetched from the server`)
	l.CheckPage(t, "dfs: whole-file caching with callbacks", "alice", "server", "bob")
	l.CheckNarrated(t, "alice open: fetched from the server")

	l.Post(t, "api/partition", `{"groups": [["alice"]]}`)
	l.Await(t, `The network is cut`)
	l.Await(t, `(?s)The network is cut.*alice open: from the cache, no message  version \d+ "draft \d+"  STALE`)
	l.Post(t, "api/heal", `{}`)
	l.Post(t, "api/crash", `{"node": "server"}`)
	l.Await(t, `server crashed`)
	l.Post(t, "api/restart", `{"node": "server"}`)
	l.Await(t, `(?s)server restarted.*bob   close: stored as version`)
	l.Stop(t)
}
