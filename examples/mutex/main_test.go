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

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// line is one row of the table mutex prints.
type line struct {
	n, entries, want, wire, own int
	perEntry, textbook, excl    string
}

var lineRE = regexp.MustCompile(`(?m)^\s*(\d+)  (Ricart-Agrawala|token ring|lock service|no lock)\s+(\d+)/(\d+)\s+(\d+)\s+(\S+)  (.+?)\s+(\d+) = .+?  +((?:held|VIOLATED).*)$`)

// runMutex runs the example and returns its output and table, keyed by
// "algorithm N".
func runMutex(t *testing.T, args ...string) (string, map[string]line) {
	t.Helper()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
	table := map[string]line{}
	for _, m := range lineRE.FindAllStringSubmatch(out.String(), -1) {
		num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
		table[m[2]+" "+m[1]] = line{
			n: num(1), entries: num(3), want: num(4), wire: num(5), own: num(8),
			perEntry: m[6], textbook: m[7], excl: m[9],
		}
	}
	return out.String(), table
}

func TestMessagesPerEntryMatchTheTheory(t *testing.T) {
	t.Parallel()
	const k = 3
	out, table := runMutex(t, "-nodes", "5,2,3", "-k", strconv.Itoa(k), "-hold", "0", "-think", "200us")
	require.Len(t, table, 9, out)
	assert.Regexp(t, `(?m)^N = 2:.*\n^N = 3:.*\n^N = 5:`, out, "the values of N run smallest first")

	for _, n := range []int{2, 3, 5} {
		ra := table["Ricart-Agrawala "+strconv.Itoa(n)]
		assert.Equal(t, n*k, ra.entries, "N=%d: every node entered k times", n)
		assert.Equal(t, 2*(n-1)*ra.entries, ra.wire, "N=%d: Ricart-Agrawala costs exactly 2(N-1) messages per entry", n)
		assert.Equal(t, ra.wire, ra.own, "N=%d: the network and peer.Stats agree", n)
		assert.Equal(t, strconv.Itoa(2*(n-1))+".00", ra.perEntry)
		assert.Equal(t, "2(N-1) = "+strconv.Itoa(2*(n-1)), ra.textbook)

		ls := table["lock service "+strconv.Itoa(n)]
		assert.Equal(t, n*k, ls.entries)
		assert.Equal(t, ls.own, ls.wire, "N=%d: the network carried a request and a reply per rpc call", n)
		assert.GreaterOrEqual(t, ls.wire, 4*ls.entries, "N=%d: acquire and release, each a round trip", n)
		assert.Equal(t, "3", ls.textbook)

		ring := table["token ring "+strconv.Itoa(n)]
		assert.Equal(t, n*k, ring.entries)
		assert.InDelta(t, ring.own, ring.wire, 2, "N=%d: 2 messages per pass, give or take the pass in flight", n)

		for _, l := range []line{ra, ls, ring} {
			assert.Equal(t, "held", l.excl)
		}
	}
	assert.Less(t, table["lock service 5"].wire, table["Ricart-Agrawala 5"].wire, "with 5 nodes, the server is cheaper")
	assert.Contains(t, out, "Mutual exclusion held in every run")
}

func TestNoLockIsCaughtByTheDetector(t *testing.T) {
	t.Parallel()
	out, table := runMutex(t, "-nodes", "4", "-k", "20", "-hold", "1ms", "-think", "0", "-nolock")
	none := table["no lock 4"]
	assert.Equal(t, 80, none.entries)
	assert.Zero(t, none.wire)
	assert.True(t, strings.HasPrefix(none.excl, "VIOLATED"), "4 nodes working 1ms each with no lock overlap: %s", none.excl)
	assert.Equal(t, "held", table["Ricart-Agrawala 4"].excl)
	assert.Contains(t, out, "Mutual exclusion was VIOLATED")
}

func TestDetectorCountsAnOverlap(t *testing.T) {
	var cs criticalSection
	cs.use()
	assert.True(t, cs.held())
	cs.inside.Add(1) // another node is inside
	cs.use()
	assert.Equal(t, int64(1), cs.overlaps.Load())
	assert.False(t, cs.held())
}

func TestLossyNetworkWithRetriesStillExcludes(t *testing.T) {
	t.Parallel()
	out, table := runMutex(t, "-nodes", "2,3", "-k", "3", "-drop", "0.1", "-dup", "0.1", "-seed", "5")
	assert.Contains(t, out, "rpc.WithRetry")
	require.Len(t, table, 6, out)
	for name, l := range table {
		assert.Equal(t, l.n*3, l.entries, "%s: every entry made", name)
		assert.Equal(t, "held", l.excl, name)
	}
	for _, n := range []int{2, 3} {
		ra := table["Ricart-Agrawala "+strconv.Itoa(n)]
		assert.Equal(t, 2*(n-1)*ra.entries, ra.own, "N=%d: the algorithm's own count is still 2(N-1) per entry", n)
		assert.GreaterOrEqual(t, ra.wire, ra.own, "N=%d: retries add messages on the wire", n)
	}
}

func TestWithoutRetriesRicartAgrawalaGetsStuck(t *testing.T) {
	t.Parallel()
	out, table := runMutex(t, "-nodes", "3", "-k", "5", "-drop", "0.3", "-noretry", "-timeout", "500ms")
	ra := table["Ricart-Agrawala 3"]
	assert.Less(t, ra.entries, ra.want, "a lost permission blocks the group")
	assert.Equal(t, "held (unfinished)", ra.excl)
	assert.Contains(t, out, "Ricart-Agrawala with N = 3 did not finish in 500ms")
	assert.Contains(t, out, "Mutual exclusion held in every run", "stuck, but never two inside")
}

func TestTraceDrawsTheSmallestN(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, _ := runMutex(t, "-nodes", "3,2", "-k", "2", "-trace", dir)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	data, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	events := string(data)
	for _, node := range []string{"p0", "p1", "r0", "r1", "c0", "c1", "server"} {
		assert.Contains(t, events, `"node":"`+node+`"`)
	}
	assert.NotContains(t, events, `"node":"p2"`, "only N = 2 is drawn")
	// Ricart-Agrawala alone: 2 nodes × 2 entries × 2(N-1) messages, each sent and received.
	assert.GreaterOrEqual(t, strings.Count(events, `"kind":"send"`), 8)
	assert.Equal(t, 3*2*2, strings.Count(events, `"in the critical section"`), "a dot per entry: 3 algorithms × 2 nodes × 2 entries")
}

// Without -times, the output replays, except the token ring's rows: while
// the nodes work outside the critical section, the token goes round on
// the real clock, and how many times depends on the machine's speed.
func TestSameSeedSameRun(t *testing.T) {
	ring := regexp.MustCompile(`(?m)^.*token ring .*$`)
	first, _ := runMutex(t, "-nodes", "2,3", "-k", "3")
	second, _ := runMutex(t, "-nodes", "2,3", "-k", "3")
	assert.Equal(t, ring.ReplaceAllString(first, "ring"), ring.ReplaceAllString(second, "ring"))
	withTimes, _ := runMutex(t, "-nodes", "2", "-k", "1", "-times")
	assert.Regexp(t, `Ricart-Agrawala \d+(\.\d+)?[µm]?s`, withTimes)
}

func TestBadFlagsAreExplained(t *testing.T) {
	t.Parallel()
	demotest.CheckUsage(t, run, "mutex", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "live without a lock", Args: []string{"-dashboard", "127.0.0.1:0", "-nolock"}, Want: "-dashboard runs the lock service only"},
		{Name: "too many live clients", Args: []string{"-dashboard", "127.0.0.1:0", "-nodes", "9"}, Want: "-dashboard draws at most 8 clients (-nodes)"},
		{Name: "one node", Args: []string{"-nodes", "1"}, Want: `"1" is not a number of nodes from 2 to 32`},
		{Name: "too many nodes", Args: []string{"-nodes", "2,64"}, Want: `"64" is not a number of nodes from 2 to 32`},
		{Name: "not a list", Args: []string{"-nodes", "2;4"}, Want: `invalid value "2;4" for flag -nodes`},
		{Name: "no entries", Args: []string{"-k", "0"}, Want: "-k must be between 1 and 10000"},
		{Name: "negative hold", Args: []string{"-hold", "-1ms"}, Want: "-hold and -think must be between 0 and 1s"},
		{Name: "long think", Args: []string{"-think", "2s"}, Want: "-hold and -think must be between 0 and 1s"},
		{Name: "no time", Args: []string{"-timeout", "0"}, Want: "-timeout must be positive"},
		{Name: "impossible probability", Args: []string{"-drop", "1.5"}, Want: "Drop"},
		{Name: "stray argument", Args: []string{"extra"}, Want: "no arguments"},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-nodes")
}

func TestInterruptedRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C before it starts
	var out, errb bytes.Buffer
	err := run(ctx, []string{"-timeout", "1m"}, &out, &errb)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, out.String(), "Mutual exclusion held", "no verdict on a run that did not happen")
}
