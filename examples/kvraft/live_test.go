package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// checkRE matches the line that ends a live round: what the checker read,
// against what the clerks were told.
var checkRE = regexp.MustCompile(`log holds (\d+) marks for (\d+) appends acknowledged and (\d+) of (\d+) maybe applied: (\d+) lost, (\d+) doubled, (\d+) stray; (\d+) keys wrong`)

// checkExact checks every round's check line in out: the log holds each
// acknowledged append once, each maybe-applied one at most once, nothing
// else, and every key its clerk's last put. It returns the number of
// acknowledged appends in the last line.
func checkExact(t *testing.T, out string) int {
	t.Helper()
	lines := checkRE.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, lines, out)
	acked := 0
	for _, m := range lines {
		n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
		require.Equal(t, n(2)+n(3), n(1), "marks = acknowledged + maybe applied present: %s", m[0])
		require.Zero(t, n(5)+n(6)+n(7)+n(8), "nothing lost, doubled, stray or wrong: %s", m[0])
		acked = n(2)
	}
	return acked
}

// With -dashboard the clerks write round after round until Ctrl-C; the
// page crashes the leader, the others elect a new one in a higher term,
// and the values stay exact; the crashed replica restarts from its
// storage.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run, "-clients", "2")
	m := l.Await(t, `Replica (\d) leads now, in term (\d+)`)
	leader, term := m[1], m[2]
	l.CheckPage(t, "kvraft: a replicated key-value store, live", "s1", "r1", "s2", "r2", "s3", "r3", "c1", "c2")
	l.CheckNarrated(t, "Replica "+leader+" leads now")
	first := checkExact(t, l.Await(t, `(?s)Round \d+:.*?`+checkRE.String())[0])
	assert.Positive(t, first)

	l.Post(t, "api/crash", `{"node": "r`+leader+`"}`)
	m = l.Await(t, `(?s)Replica `+leader+` is down.*?Replica (\d) leads now, in term (\d+)`)
	assert.NotEqual(t, leader, m[1], "a new leader")
	newTerm, _ := strconv.Atoi(m[2])
	oldTerm, _ := strconv.Atoi(term)
	assert.Greater(t, newTerm, oldTerm)
	after := checkExact(t, l.Await(t, `(?s)Replica `+leader+` is down.*?`+checkRE.String())[0])
	assert.Greater(t, after, first, "the clerks go on writing")

	l.Post(t, "api/restart", `{"node": "s`+leader+`"}`)
	l.Await(t, `(?s)Replica `+leader+` starts again from its storage \(\d+ log entries\).*?Round \d+:.*?`+checkRE.String())
	l.Stop(t)
	checkExact(t, l.Output())
}
