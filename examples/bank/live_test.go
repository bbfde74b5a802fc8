package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// totalRE matches the line that ends a live round: the bank's total, and
// the transfers done and failed so far.
var totalRE = regexp.MustCompile(`The bank's total: (\d+) of (\d+), \w+\. Transfers so far: (\d+) done, (\d+) failed`)

// liveCounts is what the last round of a live run said.
type liveCounts struct{ done, failed int }

// lastCounts checks that every round in out kept the total, and returns
// the counts of the last one.
func lastCounts(t *testing.T, out string) liveCounts {
	t.Helper()
	rounds := totalRE.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, rounds, out)
	for _, m := range rounds {
		require.Equal(t, m[2], m[1], "the total is conserved in every round\n%s", out)
	}
	last := rounds[len(rounds)-1]
	done, _ := strconv.Atoi(last[3])
	failed, _ := strconv.Atoi(last[4])
	return liveCounts{done, failed}
}

// With -dashboard the tellers make a locked transfer each per round until
// Ctrl-C. With the lock service crashed on the page every transfer fails;
// once it restarts they go on; a crashed teller makes none; and on a
// lossy network they are retried. Through all of it the total is
// conserved.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run, "-workers", "3", "-timeout", "300ms")
	l.CheckPage(t, "bank: transfers under a lock service with fencing tokens", "teller-1", "teller-3", "bank", "locks")
	l.CheckNarrated(t, "Each round every teller makes a transfer holding the bank's lock")
	healthy := lastCounts(t, l.Await(t, `Round 1:(?s:.*?)The bank's total[^\n]*`)[0])
	assert.Equal(t, liveCounts{done: 3}, healthy, "a healthy network fails no transfer")

	l.Post(t, "api/crash", `{"node": "locks"}`)
	crashed := lastCounts(t, l.Await(t, `(?s)locks crashed.*?Round \d+:\n(   teller-\d [^\n]*: FAILED: [^\n]*\n){3}   The bank's total[^\n]*`)[0])
	assert.GreaterOrEqual(t, crashed.failed, 3, "no lock, no transfer")

	l.Post(t, "api/restart", `{"node": "locks"}`)
	l.Post(t, "api/crash", `{"node": "teller-2"}`)
	restarted := lastCounts(t, l.Await(t, `(?s)A new lock server starts.*?Round \d+:\n   teller-1 [^\n]*: done[^\n]*\n   teller-2 is down[^\n]*\n   teller-3 [^\n]*: done[^\n]*\n   The bank's total[^\n]*`)[0])
	assert.Greater(t, restarted.done, crashed.done, "the tellers up make their transfers again")

	l.Post(t, "api/restart", `{"node": "teller-2"}`)
	l.Post(t, "api/faults", `{"drop": 0.2, "duplicate": 0.2}`)
	lossy := lastCounts(t, l.Await(t, `(?s)Faults changed.*?Round \d+:\n   teller-1 [^\n]*\n   teller-2 [^\n]*: done[^\n]*\n   teller-3 [^\n]*\n   The bank's total[^\n]*`)[0])
	assert.Greater(t, lossy.done, restarted.done, "the restarted teller and the others go on")
	l.Stop(t)
	lastCounts(t, l.Output()) // every round, to the end, conserved the total
}
