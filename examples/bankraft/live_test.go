package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// totalRE matches the line that ends a live round: the transfers so far,
// the newest token, and the bank's total against the opening one.
var totalRE = regexp.MustCompile(`Transfers so far: (\d+) done, (\d+) failed; newest token (\d+)\. The bank's total: (\d+) of (\d+)`)

// roundCounts is what a live round's last line said.
type roundCounts struct{ done, failed, token int }

// lastRound checks that every round in out kept the total, and returns
// the counts of the last one.
func lastRound(t *testing.T, out string) roundCounts {
	t.Helper()
	rounds := totalRE.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, rounds, out)
	for _, m := range rounds {
		require.Equal(t, m[5], m[4], "the total is conserved in every round\n%s", out)
	}
	n := func(i int) int { v, _ := strconv.Atoi(rounds[len(rounds)-1][i]); return v }
	return roundCounts{done: n(1), failed: n(2), token: n(3)}
}

// With -dashboard the tellers make a locked transfer each per round until
// Ctrl-C; the page crashes the lock service's leader, the others elect a
// new one, transfers go on with growing tokens, and the total is
// conserved; the crashed replica restarts from its storage; a crashed
// teller makes no transfer, and makes them again once restarted.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run, "-tellers", "2")
	leader := l.Await(t, `Replica (\d) leads now`)[1]
	l.CheckPage(t, "bankraft: transfers under a replicated lock service", "lock1", "raft1", "lock3", "raft3", "teller1", "teller2")
	l.CheckNarrated(t, "Replica "+leader+" leads now")
	before := lastRound(t, l.Await(t, `(?s)Round \d+:.*?`+totalRE.String())[0])
	assert.Equal(t, roundCounts{done: 2, token: before.token}, before, "a healthy service fails no transfer")
	assert.Positive(t, before.token)

	l.Post(t, "api/crash", `{"node": "raft`+leader+`"}`)
	m := l.Await(t, `(?s)Replica `+leader+` is down.*?Replica (\d) leads now`)
	assert.NotEqual(t, leader, m[1], "a new leader")
	// A round after the new leader's: both tellers transfer again.
	after := lastRound(t, l.Await(t, `(?s)Replica `+m[1]+` leads now.*?Round \d+:\n   teller1: done[^\n]*\n   teller2: done[^\n]*\n   `+totalRE.String())[0])
	assert.Greater(t, after.done, before.done, "transfers go on after the election")
	assert.Greater(t, after.token, before.token, "tokens keep growing")

	l.Post(t, "api/restart", `{"node": "lock`+leader+`"}`)
	l.Post(t, "api/crash", `{"node": "teller2"}`)
	down := lastRound(t, l.Await(t, `(?s)Replica `+leader+` starts again from its storage \(\d+ log entries\).*?Round \d+:\n   teller1: done[^\n]*\n   teller2 is down[^\n]*\n   `+totalRE.String())[0])
	assert.Greater(t, down.done, after.done, "the teller up goes on")

	l.Post(t, "api/restart", `{"node": "teller2"}`)
	back := lastRound(t, l.Await(t, `(?s)teller2 restarted.*?Round \d+:\n   teller1: done[^\n]*\n   teller2: done[^\n]*\n   `+totalRE.String())[0])
	assert.Greater(t, back.token, down.token, "the restarted teller is granted the lock again")
	l.Stop(t)
	lastRound(t, l.Output()) // every round, to the end, conserved the total
}
