package main

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// soFarRE matches the tally that ends a live round. The tests wait for
// all of it: the two lines may be printed by two writes.
var soFarRE = regexp.MustCompile(`So far: (\d+) receives, (\d+) stamped BEFORE their send by the physical clocks, (\d+) by Lamport's; carol's last\n   writer wins was WRONG (\d+) times by physical clocks and (\d+) by Lamport's; the two writes were concurrent (\d+) times\.`)

// liveTally returns the last tally in out, and checks that in every round
// the Lamport clocks stamped every receive after its send and never made
// carol lose a newer write.
func lastTally(t *testing.T, out string) liveTally {
	t.Helper()
	all := soFarRE.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, all, out)
	var tl liveTally
	for _, m := range all {
		num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
		tl = liveTally{receives: num(1), physicalBefore: num(2), lamportBefore: num(3), physicalWrong: num(4), lamportWrong: num(5), concurrent: num(6)}
		require.Zero(t, tl.lamportBefore, "a Lamport clock stamps a receive after its send\n%s", out)
		require.Zero(t, tl.lamportWrong, "last writer wins by Lamport clock keeps the newer of two ordered writes\n%s", out)
	}
	return tl
}

// With -dashboard the processes exchange writes round after round until
// Ctrl-C. bob's slow clock stamps receives before their sends until the
// page makes alice -> bob slower than his skew; with alice -> bob cut,
// bob writes without having seen alice's write, and the vector clocks
// call the two concurrent. Lamport clocks are never wrong about an order.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	l := demotest.StartLive(t, run)
	first := lastTally(t, l.Await(t, `(?s)Round 2:.*?`+soFarRE.String())[0])
	assert.Positive(t, first.physicalBefore, "bob's clock is 30ms slow, and messages take 5 to 15ms")
	assert.Positive(t, first.physicalWrong, "so carol keeps alice's older write by physical clock")
	l.CheckPage(t, "clocks: physical, Lamport and vector timestamps", "alice", "bob", "carol")
	l.CheckNarrated(t, "carol keeps one by last")

	l.Post(t, "api/faults", `{"from": "alice", "to": "bob", "delayMs": 60}`)
	l.Await(t, `(?s)Faults changed.*?bob   receives x=a\d+ from alice: [^\n]*, after its send;`)

	l.Post(t, "api/link", `{"from": "alice", "to": "bob", "cut": true}`)
	cut := lastTally(t, l.Await(t, `(?s)The network is cut.*?are CONCURRENT by their vector clocks.*?`+soFarRE.String())[0])
	assert.Positive(t, cut.concurrent)
	l.Stop(t)
	lastTally(t, l.Output())
}
