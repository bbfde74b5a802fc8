package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// summaryPat matches the lines that end a live round: every server's
// role, term and applied commands, and the verdict that the applied logs
// agree (the line is "SAFETY VIOLATED" otherwise, which never matches).
const summaryPat = `\n   (n1: [^\n]*)\n   The applied logs agree`

// server is one server in a round's summary.
type server struct {
	down          bool
	role          string
	term, applied int
}

var serverRE = regexp.MustCompile(`(n\d): (?:(down)|(\w+), term (\d+), (\d+) applied)`)

// parseSummary reads a round's summary line.
func parseSummary(t *testing.T, line string) map[string]server {
	t.Helper()
	s := make(map[string]server)
	for _, m := range serverRE.FindAllStringSubmatch(line, -1) {
		term, _ := strconv.Atoi(m[4])
		applied, _ := strconv.Atoi(m[5])
		s[m[1]] = server{down: m[2] != "", role: m[3], term: term, applied: applied}
	}
	require.Len(t, s, 5, line)
	return s
}

// awaitSummary waits for the round summaries printed after marker (a
// regular expression), one after the other, until ok accepts one, and
// returns it. It fails the test after ten rounds.
func awaitSummary(t *testing.T, l *demotest.Live, marker string, ok func(map[string]server) bool) map[string]server {
	t.Helper()
	for k := 1; k <= 10; k++ {
		m := l.Await(t, `(?s)`+marker+`(?:.*?`+summaryPat+`){`+strconv.Itoa(k)+`}`)
		if s := parseSummary(t, m[1]); ok(s) {
			return s
		}
	}
	t.Fatalf("no round after %q ended as expected:\n%s", marker, l.Output())
	return nil
}

// caughtUp reports whether every server runs and has applied the same
// number of commands, at least min.
func caughtUp(s map[string]server, min int) bool {
	for _, sv := range s {
		if sv.down || sv.applied != s["n1"].applied || sv.applied < min {
			return false
		}
	}
	return true
}

// With -dashboard the servers run until Ctrl-C while the page cuts and
// crashes them: a leader cut off is replaced by a new one in a higher
// term, which goes on committing; after the heal the old leader follows
// it and applies the same log; a follower crashed and restarted comes
// back from its storage and catches up.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run, "-tick", "20ms")
	m := l.Await(t, `The client sends x=\d+ to (n\d), leader of term (\d+): entry (\d+), committed`)
	leader, term := m[1], atoi(m[2])
	l.CheckPage(t, "raft: elections, commits and log repair, live", "n1", "n2", "n3", "n4", "n5")
	l.CheckNarrated(t, "won the election of term")

	l.Post(t, "api/partition", `{"groups": [["`+leader+`"]]}`)
	m = l.Await(t, `(?s)The network is cut.*?(n\d) won the election of term (\d+)`)
	newLeader, newTerm := m[1], atoi(m[2])
	assert.NotEqual(t, leader, newLeader, "the majority elects one of its own")
	assert.Greater(t, newTerm, term, "in a higher term")
	m = l.Await(t, `(?s)The network is cut.*?The client sends x=\d+ to `+newLeader+`, leader of term `+m[2]+`: entry (\d+), committed`)
	assert.Greater(t, atoi(m[1]), 1, "commits go on")
	cut := awaitSummary(t, l, `The network is cut`, func(s map[string]server) bool { return s[newLeader].role == "leader" })
	assert.Less(t, cut[leader].applied, cut[newLeader].applied, "the old leader cannot apply the new commits")

	l.Post(t, "api/heal", `{}`)
	healed := awaitSummary(t, l, `The network heals`, func(s map[string]server) bool { return caughtUp(s, cut[newLeader].applied+1) })
	assert.Equal(t, "follower", healed[leader].role, "the old leader follows")
	assert.GreaterOrEqual(t, healed[leader].term, newTerm)

	follower := "n1"
	for follower == newLeader || follower == leader {
		follower = "n" + strconv.Itoa(atoi(follower[1:])+1)
	}
	l.Post(t, "api/crash", `{"node": "`+follower+`"}`)
	down := awaitSummary(t, l, follower+` crashed`, func(s map[string]server) bool {
		return s[follower].down && s[newLeader].applied > healed[newLeader].applied
	})
	l.Post(t, "api/restart", `{"node": "`+follower+`"}`)
	l.Await(t, follower+` starts again from its storage: term \d+, \d+ log entries`)
	awaitSummary(t, l, follower+` starts again from its storage`, func(s map[string]server) bool { return caughtUp(s, down[newLeader].applied+1) })
	l.Stop(t)
	assert.NotContains(t, l.Output(), "SAFETY VIOLATED")
}

func atoi(s string) int {
	n, _ := strconv.Atoi(strings.TrimSpace(s))
	return n
}
