package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// wayRE matches a way's line in a live round that paid: whether the
// transfer went through, whether mallory read the PIN, and what bob got.
var wayRE = regexp.MustCompile(`   (plain rpc|signed|TLS): +alice's transfer (went through|was REFUSED)[^;]*; mallory read the PIN: (YES|no); bob received (\d+)\.`)

// wayLine is what a round said of one way.
type wayLine struct {
	through, sniffed bool
	bob              int
}

// lastWays returns what the last round of out said of each way, and
// checks that every round said the same of each.
func lastWays(t *testing.T, out string) map[string]wayLine {
	t.Helper()
	lines := wayRE.FindAllStringSubmatch(out, -1)
	require.GreaterOrEqual(t, len(lines), 3, out)
	ways := map[string]wayLine{}
	for _, m := range lines {
		bob, _ := strconv.Atoi(m[4])
		w := wayLine{through: m[2] == "went through", sniffed: m[3] == "YES", bob: bob}
		if old, ok := ways[m[1]]; ok {
			require.Equal(t, old, w, "%s: every round the same\n%s", m[1], out)
		}
		ways[m[1]] = w
	}
	return ways
}

// With -dashboard alice pays bob 10 through mallory every round, three
// ways. Plain rpc: mallory reads the PIN and bob gets her 90. Signed: she
// reads the PIN, and her change is refused. TLS: she reads nothing, and
// her change finds nothing to change. Crash mallory, and nothing passes;
// restart her, and the rounds go on as before.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run)
	l.CheckPage(t, "secure: mallory in the middle, and what TLS and signatures do", "alice", "mallory", "bank")
	l.CheckNarrated(t, "Three ways: plain rpc")
	want := map[string]wayLine{
		"plain rpc": {through: true, sniffed: true, bob: 90},
		"signed":    {through: false, sniffed: true, bob: 0},
		"TLS":       {through: true, sniffed: false, bob: 10},
	}
	assert.Equal(t, want, lastWays(t, l.Await(t, `Round 1:\n(?:   [^\n]*\n){3}`)[0]))

	l.Post(t, "api/crash", `{"node": "mallory"}`)
	l.Await(t, `(?s)mallory crashed.*?Round \d+:\n(   [^\n]*mallory is down[^\n]*\n){3}`)
	l.Post(t, "api/restart", `{"node": "mallory"}`)
	back := l.Await(t, `(?s)mallory restarted.*?Round \d+:\n(?:   [^\n]*\n){3}`)[0]
	assert.Equal(t, want, lastWays(t, back), "mallory is back on the path")
	l.Stop(t)
	assert.Equal(t, want, lastWays(t, l.Output()))
}
