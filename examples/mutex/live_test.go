package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// storeRE matches the line that ends a live round: the store's counter,
// the writes it accepted, the accesses it refused and the newest token.
var storeRE = regexp.MustCompile(`The store: counter = (\d+) after (\d+) writes accepted \([^)]*\); (\d+) accesses refused; newest token (\d+)\.`)

// storeLine is what the end of a round said.
type storeLine struct {
	counter, accepted, refused int
	newest                     uint64
}

// lastStore checks that in every round of out the counter equals the
// writes accepted (no increment lost), and returns the last round's line.
func lastStore(t *testing.T, out string) storeLine {
	t.Helper()
	rounds := storeRE.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, rounds, out)
	var s storeLine
	for _, m := range rounds {
		num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
		s = storeLine{counter: num(1), accepted: num(2), refused: num(3), newest: uint64(num(4))}
		require.Equal(t, s.accepted, s.counter, "no increment lost, in any round\n%s", out)
	}
	return s
}

// With -dashboard the clients take the lock service's lock in turn,
// round after round, until Ctrl-C. A holder cut off from the server while
// inside loses its lease, the next client is granted the lock with a newer
// token, and the store refuses the old holder's write; a crashed server
// grants nothing, and once restarted issues tokens above every old one.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run, "-nodes", "2", "-hold", "700ms")
	first := lastStore(t, l.Await(t, `Round 1:(?s:.*?)The store:[^\n]*`)[0])
	assert.Equal(t, storeLine{counter: 2, accepted: 2, newest: 2}, first, "each client entered once")
	l.CheckPage(t, "mutex: a lock service with leases and fencing tokens", "c1", "c2", "server", "store")
	l.CheckNarrated(t, "Each round every client takes the lock")

	// The first holder of the next round has a waiter behind it: cut it
	// off from the server while it is inside.
	m := l.Await(t, `Round 2:\n   (c\d) is granted token (\d+), reads`)
	holder, token := m[1], m[2]
	l.Post(t, "api/link", `{"from": "`+holder+`", "to": "server", "cut": true}`)
	l.Post(t, "api/link", `{"from": "server", "to": "`+holder+`", "cut": true}`)
	next, _ := strconv.Atoi(token)
	l.Await(t, `c\d is granted token `+strconv.Itoa(next+1)+`, reads`)
	fenced := l.Await(t, `(?s)`+holder+` writes counter = \d+ with token `+token+`: REFUSED.*?The store:[^\n]*`)
	assert.Positive(t, lastStore(t, fenced[0]).refused, "the stale write was refused")

	l.Post(t, "api/heal", `{}`)
	l.Post(t, "api/crash", `{"node": "server"}`)
	down := lastStore(t, l.Await(t, `(?s)server crashed.*?Round \d+:\n   c\d gets no lock[^\n]*\n   c\d gets no lock[^\n]*\n   The store:[^\n]*`)[0])
	l.Post(t, "api/restart", `{"node": "server"}`)
	up := lastStore(t, l.Await(t, `(?s)A new lock server starts.*?Round \d+:\n.*?The store:[^\n]*`)[0])
	assert.Greater(t, up.accepted, down.accepted, "the clients enter again")
	assert.Greater(t, up.newest, down.newest, "the restarted server's tokens are newer than every old one")
	l.Stop(t)
	lastStore(t, l.Output())
}
