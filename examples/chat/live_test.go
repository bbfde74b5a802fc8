package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// memberRE matches a member's line at the end of a live round.
var memberRE = regexp.MustCompile(`   (\w+) +sent (\d+); received (\d+) \(\d+ in all\); the room dropped (\d+) for`)

// roundLine is what a round said of one member.
type roundLine struct{ sent, received, dropped int }

// lastRound returns what the last round in out said of each member.
func lastRound(t *testing.T, out string) map[string]roundLine {
	t.Helper()
	lines := memberRE.FindAllStringSubmatch(out, -1)
	require.GreaterOrEqual(t, len(lines), 3, out)
	r := map[string]roundLine{}
	for _, m := range lines[len(lines)-3:] {
		num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
		r[m[1]] = roundLine{num(2), num(3), num(4)}
	}
	require.Len(t, r, 3, "a line for each member\n%s", out)
	return r
}

// roundEnd matches the rest of a round, up to its last member's line.
const roundEnd = `Round \d+:\n(?:   [^\n]*\n)*?   carol +sent[^\n]*\n`

// With -dashboard every member sends its messages to the room every
// round. A member whose link from the server is slowed fills its queue and
// the room drops its messages, while the others get all of theirs; a
// crashed member leaves and joins again when restarted; a crashed server
// takes the room with it, and the members join the new one.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run)
	l.CheckPage(t, "chat: a room that a slow member cannot stall", "alice", "bob", "carol", "server")
	l.CheckNarrated(t, "each round every member sends 3 messages")
	all := roundLine{sent: 3, received: 6}
	healthy := lastRound(t, l.Await(t, `(?s)Round 1:\n.*?`+roundEnd)[0])
	assert.Equal(t, map[string]roundLine{"alice": all, "bob": all, "carol": all}, healthy)

	l.Post(t, "api/faults", `{"from": "server", "to": "carol", "delayMs": 60000}`)
	m := l.Await(t, `(?s)Faults changed.*?Round \d+:\n(?:   [^\n]*\n)*?   carol +sent \d+; received 0 \(\d+ in all\); the room dropped [1-9][^\n]*\n`)
	dropped := lastRound(t, m[0])
	assert.Equal(t, all, dropped["alice"], "the room goes on for alice")
	assert.Equal(t, all, dropped["bob"], "and for bob")
	assert.Positive(t, dropped["carol"].dropped, "carol's queue overflowed")

	l.Post(t, "api/faults", `{"from": "server", "to": "carol", "clear": true}`)
	l.Post(t, "api/crash", `{"node": "carol"}`)
	down := lastRound(t, l.Await(t, `(?s)carol crashed.*?Round \d+:\n(?:   [^\n]*\n)*?   carol is down[^\n]*\n   carol +sent[^\n]*\n`)[0])
	assert.Equal(t, roundLine{sent: 3, received: 3}, down["alice"], "alice hears bob only")

	l.Post(t, "api/restart", `{"node": "carol"}`)
	back := lastRound(t, l.Await(t, `(?s)carol restarted.*?Round \d+:\n(?:   [^\n]*\n)*?   carol joins the room again\.\n   carol +sent[^\n]*\n`)[0])
	assert.Equal(t, map[string]roundLine{"alice": all, "bob": all, "carol": all}, back, "carol is in the room again, with an empty queue")

	l.Post(t, "api/crash", `{"node": "server"}`)
	l.Post(t, "api/restart", `{"node": "server"}`)
	rejoined := lastRound(t, l.Await(t, `(?s)A new room starts.*?Round \d+:\n(?:   [^\n]*\n)*?   carol joins the room again\.\n   carol +sent[^\n]*\n`)[0])
	assert.Equal(t, map[string]roundLine{"alice": all, "bob": all, "carol": all}, rejoined, "everyone joined the new room")
	l.Stop(t)
}
