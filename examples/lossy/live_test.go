package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// roundRE matches a live round that ran both runs to their end: the raw
// datagrams that arrived of those sent, and the reliable run's messages
// delivered of those sent, duplicated and out of order.
var roundRE = regexp.MustCompile(`raw datagrams: (\d+) of (\d+) arrived;[^\n]*\n   transport/reliable: (\d+) of (\d+) delivered; (\d+) duplicated, (\d+) out of order`)

// liveRound is what one round said.
type liveRound struct {
	rawArrived, rawSent, delivered, sent, duplicated, reordered int
}

// lastRound returns the last complete round in out, and checks that in
// every one the reliable run delivered every message once, in order.
func lastRound(t *testing.T, out string) liveRound {
	t.Helper()
	rounds := roundRE.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, rounds, out)
	var r liveRound
	for _, m := range rounds {
		num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
		r = liveRound{num(1), num(2), num(3), num(4), num(5), num(6)}
		require.Equal(t, liveRound{rawArrived: r.rawArrived, rawSent: r.sent, delivered: r.sent, sent: r.sent}, r,
			"the reliable run delivers every message once, in order, in every round\n%s", out)
	}
	return r
}

// With -dashboard the sender sends its messages as raw datagrams and over
// transport/reliable, round after round, on the page's network. With 30%
// of the datagrams dropped on the page, raw datagrams are lost and the
// reliable run still delivers all of them in order; a crashed receiver
// gets nothing, and a cut link makes the reliable run give up on its peer.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run, "-n", "20", "-drop", "0", "-dup", "0", "-reorder", "0")
	l.CheckPage(t, "lossy: raw datagrams and transport/reliable on a faulty network", "sender", "receiver")
	l.CheckNarrated(t, "twice: as raw datagrams, and then over")
	clean := lastRound(t, l.Await(t, `Round 1:\n[^\n]*\n[^\n]*\n`)[0])
	assert.Equal(t, liveRound{20, 20, 20, 20, 0, 0}, clean, "a network without faults loses nothing")

	l.Post(t, "api/faults", `{"drop": 0.3}`)
	lossy := lastRound(t, l.Await(t, `(?s)Faults changed.*?Round \d+:\n[^\n]*\n[^\n]*\n`)[0])
	assert.Less(t, lossy.rawArrived, lossy.rawSent, "raw datagrams are dropped")
	assert.Equal(t, 20, lossy.delivered, "the reliable run sends them again")

	l.Post(t, "api/crash", `{"node": "receiver"}`)
	l.Await(t, `(?s)receiver crashed.*?Round \d+:\n   receiver is down: nothing is sent this round\.`)
	l.Post(t, "api/restart", `{"node": "receiver"}`)
	l.Post(t, "api/faults", `{}`)
	l.Await(t, `(?s)receiver restarted.*?Round \d+:\n   raw datagrams: 20 of 20 arrived[^\n]*\n   transport/reliable: 20 of 20 delivered`)

	l.Post(t, "api/link", `{"from": "sender", "to": "receiver", "cut": true}`)
	m := l.Await(t, `(?s)The network is cut.*?Round \d+:\n   raw datagrams: (\d+) of 20 arrived[^\n]*\n   transport/reliable: (?:FAILED|could not start)`)
	assert.Equal(t, "0", m[1], "no datagram crosses a cut link")
	l.Stop(t)
	lastRound(t, l.Output())
}
