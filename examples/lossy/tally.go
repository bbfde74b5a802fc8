package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// tally is what a receiver makes of the numbered messages 1..n that
// reached it: which arrived, how often, and in what order.
type tally struct {
	copies    []int // copies[i]: how many copies of message i arrived (index 0 unused)
	arrivals  int   // datagrams or messages received, copies included
	reordered int   // first copies that arrived after a higher-numbered message
	highest   int   // the highest number received so far
	foreign   int   // datagrams that were not one of ours (another program on the port)
}

func newTally(n int) *tally { return &tally{copies: make([]int, n+1)} }

// message returns the bytes that carry number i: its decimal digits, then
// a space and padding up to size bytes.
func message(i, size int) []byte {
	msg := strconv.AppendInt(make([]byte, 0, size), int64(i), 10)
	msg = append(msg, ' ')
	for len(msg) < size {
		msg = append(msg, '.')
	}
	return msg
}

// add counts one arrival.
func (t *tally) add(msg []byte) {
	digits, _, _ := strings.Cut(string(msg), " ")
	i, err := strconv.Atoi(digits)
	if err != nil || i < 1 || i >= len(t.copies) {
		t.foreign++
		return
	}
	t.arrivals++
	t.copies[i]++
	if t.copies[i] > 1 {
		return // a duplicate: counted once, as a duplicate, not as reordered
	}
	if i < t.highest {
		t.reordered++ // a later message overtook this one
	}
	t.highest = max(t.highest, i)
}

// result sums up a tally for the table.
type result struct {
	name       string
	sent       int
	arrived    int // messages received, duplicates included
	distinct   int // different numbers received
	duplicated int // extra copies
	reordered  int
	missing    []int // numbers never received
	elapsed    time.Duration
}

func (t *tally) result(name string, elapsed time.Duration) result {
	r := result{name: name, sent: len(t.copies) - 1, arrived: t.arrivals, reordered: t.reordered, elapsed: elapsed}
	for i := 1; i < len(t.copies); i++ {
		switch c := t.copies[i]; {
		case c == 0:
			r.missing = append(r.missing, i)
		default:
			r.distinct++
			r.duplicated += c - 1
		}
	}
	return r
}

// perfect reports whether every message arrived exactly once, in order.
func (r result) perfect() bool {
	return len(r.missing) == 0 && r.duplicated == 0 && r.reordered == 0
}

// describe says in words what happened to the stream.
func (r result) describe(out io.Writer) {
	fmt.Fprintf(out, "   arrived: %d of %d distinct messages (%d copies received)\n", r.distinct, r.sent, r.arrived)
	fmt.Fprintf(out, "   lost %d, duplicated %d, out of order %d; took %v\n",
		len(r.missing), r.duplicated, r.reordered, r.elapsed.Round(time.Millisecond))
	if len(r.missing) > 0 {
		fmt.Fprintf(out, "   first missing: %s\n", firstFew(r.missing, 10))
	}
}

// firstFew lists up to k numbers, and how many more there are.
func firstFew(nums []int, k int) string {
	var b strings.Builder
	for i, n := range nums[:min(k, len(nums))] {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(strconv.Itoa(n))
	}
	if len(nums) > k {
		fmt.Fprintf(&b, " ... (%d more)", len(nums)-k)
	}
	return b.String()
}

// printTable prints the three runs side by side.
func printTable(out io.Writer, rs []result) {
	fmt.Fprintf(out, "%-22s %6s %8s %5s %10s %9s %9s %8s\n",
		"run", "sent", "arrived", "lost", "duplicated", "reordered", "in order", "time")
	for _, r := range rs {
		ok := "no"
		if r.perfect() {
			ok = "yes"
		}
		fmt.Fprintf(out, "%-22s %6d %8d %5d %10d %9d %9s %8v\n",
			r.name, r.sent, r.distinct, len(r.missing), r.duplicated, r.reordered, ok, r.elapsed.Round(time.Millisecond))
	}
}
