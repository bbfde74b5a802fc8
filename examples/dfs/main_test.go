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

// counts are the numbers of the summary.
type counts struct {
	aliceOpens, aliceHits, aliceFetches, aliceStale, aliceCallbacks int
	bobOpens, bobHits, bobFetches, bobStale                         int
	fetches, stores, callbacks, undelivered                         int
	cached, opens                                                   int
	messages, lost                                                  int
}

var summaryRE = regexp.MustCompile(`(?s)alice opened notes.txt (\d+) times: (\d+) from the cache, (\d+) fetched; (\d+) stale reads; (\d+) callbacks received\.` +
	`.*bob   opened notes.txt (\d+) times: (\d+) from the cache, (\d+) fetched; (\d+) stale reads` +
	`.*server: (\d+) fetches, (\d+) stores, (\d+) callbacks made, (\d+) undelivered\.` +
	`.*The cache served (\d+) of (\d+) opens without a message\.` +
	`.*netsim carried (\d+) messages and lost (\d+)\.`)

func summary(t *testing.T, out string) counts {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	n := make([]int, len(m)-1)
	for i, s := range m[1:] {
		var err error
		n[i], err = strconv.Atoi(s)
		require.NoError(t, err)
	}
	return counts{n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10], n[11], n[12], n[13], n[14], n[15], n[16]}
}

func TestCacheCounts(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want counts // messages and lost are checked apart
	}{
		{
			name: "callbacks keep every read fresh",
			args: nil,
			// alice: 9 opens, a fetch after each of bob's 2 writes; bob: a fetch, then a hit.
			want: counts{9, 6, 3, 0, 2, 2, 1, 1, 0, 4, 2, 2, 0, 7, 11, 0, 0},
		},
		{
			name: "without callbacks alice reads stale copies",
			args: []string{"-nocallbacks"},
			// alice fetches once and reads version 1 for ever: 3 stale reads after each write.
			want: counts{9, 8, 1, 6, 0, 2, 1, 1, 0, 2, 2, 0, 0, 9, 11, 0, 0},
		},
		{
			name: "more opens save more fetches",
			args: []string{"-opens", "5", "-rounds", "3"},
			want: counts{20, 16, 4, 0, 3, 3, 2, 1, 0, 5, 3, 3, 0, 18, 23, 0, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := summary(t, runDemo(t, tt.args...))
			assert.Positive(t, got.messages)
			got.messages = 0
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCallbacksCostMessagesAndBuyFreshReads(t *testing.T) {
	t.Parallel()
	with, without := summary(t, runDemo(t)), summary(t, runDemo(t, "-nocallbacks"))
	assert.Zero(t, with.aliceStale)
	assert.Equal(t, 2, with.callbacks, "one callback per write of bob's")
	assert.Equal(t, 6, without.aliceStale, "every open after a write, without callbacks")
	assert.Greater(t, with.messages, without.messages, "callbacks cost messages")
}

func TestLossyNetworkKeepsTheCountsExact(t *testing.T) {
	t.Parallel()
	got := summary(t, runDemo(t, "-drop", "0.2", "-dup", "0.1", "-seed", "7"))
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
	out := runDemo(t, "-drop", "0.5", "-seed", "1")
	got := summary(t, out)
	require.Positive(t, got.aliceStale, "seed 1 loses a callback, and alice reads stale copies\n%s", out)
	require.Positive(t, got.undelivered)
	assert.NotContains(t, out, "no open read a stale copy", "the conclusion follows the counts")
}

func TestALostNetworkStopsAtOnce(t *testing.T) {
	t.Parallel()
	out := runDemo(t, "-drop", "1")
	assert.Equal(t, 2, strings.Count(out, "TIMED OUT"), "it stops after the first calls\n%s", out)
	assert.NotContains(t, out, "Summary:", out)
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
	messages := regexp.MustCompile(`netsim carried \d+ messages`)
	var a, b, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-seed", "3"}, &a, &errb), errb.String())
	require.NoError(t, run(context.Background(), []string{"-seed", "3"}, &b, &errb), errb.String())
	assert.Equal(t, messages.ReplaceAllString(a.String(), "N messages"), messages.ReplaceAllString(b.String(), "N messages"))
}

func TestHeavyLossIsNarratedNotFatal(t *testing.T) {
	t.Parallel()
	out := runDemo(t, "-drop", "0.6", "-seed", "2")
	assert.Regexp(t, `TIMED OUT: no reply within \d+ms`, out)
	assert.Regexp(t, `\d+ calls? got no answer in time`, out)
	assert.Contains(t, out, "Summary:", "the demo goes on to the end")
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
