package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// row is one line of the table lossy prints at the end.
type row struct {
	sent, arrived, lost, duplicated, reordered int
	inOrder                                    bool
}

var rowRE = regexp.MustCompile(`(?m)^(raw UDP|UDP with faults|reliable over faults)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(yes|no)\s+\S+$`)

// runLossy runs the example with args and returns its output and table.
func runLossy(t *testing.T, args ...string) (string, map[string]row) {
	t.Helper()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
	rows := map[string]row{}
	for _, m := range rowRE.FindAllStringSubmatch(out.String(), -1) {
		num := func(i int) int { n, _ := strconv.Atoi(m[i]); return n }
		rows[m[1]] = row{num(2), num(3), num(4), num(5), num(6), m[7] == "yes"}
	}
	require.Len(t, rows, 3, out.String())
	for name, r := range rows {
		assert.Equal(t, r.sent, r.arrived+r.lost, "%s: every message arrived or is counted lost", name)
	}
	return out.String(), rows
}

// number returns the integer the first group of re matches in s.
func number(t *testing.T, re, s string) int {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(s)
	require.NotNil(t, m, "no %q in:\n%s", re, s)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

func TestFaultsDamageUDPAndReliableRepairsIt(t *testing.T) {
	t.Parallel()
	out, rows := runLossy(t, "-n", "300", "-seed", "3", "-drop", "0.1", "-dup", "0.1", "-reorder", "0.1")

	raw := rows["raw UDP"]
	assert.Equal(t, 300, raw.sent)
	assert.Zero(t, raw.duplicated, "loopback never duplicates")

	bad := rows["UDP with faults"]
	dropped := number(t, `the faults dropped (\d+),`, out)
	assert.Positive(t, dropped, "the seed's faults drop some datagrams")
	assert.GreaterOrEqual(t, bad.lost, dropped, "what the faults dropped is lost")
	assert.Positive(t, bad.duplicated, "the faults' duplicates arrive twice")
	assert.False(t, bad.inOrder)

	rel := rows["reliable over faults"]
	assert.Equal(t, row{sent: 300, arrived: 300, inOrder: true}, rel, "the reliable run delivers all, once, in order")
	assert.Positive(t, number(t, `the sender sent (\d+) segments again`, out), "the faults hit the reliable run too")
	assert.Contains(t, out, "Every message arrived exactly once, in order")
}

func TestReceiverWaitsForDelayedDatagrams(t *testing.T) {
	t.Parallel()
	// Small messages, so that the kernel's buffer holds them all even if
	// the receiver is slow: only the delay can make them late.
	_, rows := runLossy(t, "-n", "100", "-size", "20", "-drop", "0", "-dup", "0", "-reorder", "0", "-delay", "30ms", "-jitter", "10ms")
	bad := rows["UDP with faults"]
	assert.Equal(t, 100, bad.arrived, "the quiet period covers the delay: nothing was given up on")
	assert.Zero(t, bad.duplicated)
	assert.True(t, rows["reliable over faults"].inOrder)
}

func TestTraceDrawsTheReliableRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, _ := runLossy(t, "-n", "10", "-trace", dir)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	assert.Equal(t, 10, strings.Count(string(events), `"kind":"send"`), "one send per message")
	assert.Equal(t, 10, strings.Count(string(events), `"kind":"receive"`), "each received once")
	assert.Contains(t, string(events), "message 10")
}

func TestAHopelessNetworkEndsWithTheTable(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-drop", "1", "-silence", "1s", "-n", "20"}, &out, &errb)
	require.NoError(t, err, errb.String())
	assert.Contains(t, out.String(), "reliable (gave up)", "the table is printed, with the run that gave up\n%s", out.String())
	rows := regexp.MustCompile(`(?m)^reliable \(gave up\)\s+20\s+(\d+)\s+(\d+)`).FindStringSubmatch(out.String())
	require.NotNil(t, rows, out.String())
	assert.Equal(t, "0", rows[1], "nothing arrived")
	assert.Equal(t, "20", rows[2], "everything was lost")
}

func TestBadFlagsAreExplained(t *testing.T) {
	t.Parallel()
	demotest.CheckUsage(t, run, "lossy", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "not a number", Args: []string{"-n", "many"}, Want: `invalid value "many" for flag -n`},
		{Name: "no messages", Args: []string{"-n", "0"}, Want: "-n must be between 1 and"},
		{Name: "too many", Args: []string{"-n", "20000000"}, Want: "-n must be between 1 and"},
		{Name: "tiny messages", Args: []string{"-size", "3"}, Want: "-size must be between 9 and 65507"},
		{Name: "huge messages", Args: []string{"-size", "70000"}, Want: "-size must be between 9 and 65507"},
		{Name: "negative burst", Args: []string{"-burst", "-1"}, Want: "-burst must not be negative"},
		{Name: "impossible probability", Args: []string{"-drop", "1.5"}, Want: "Drop"},
		{Name: "negative delay", Args: []string{"-delay", "-1s"}, Want: "Delay"},
		{Name: "stray argument", Args: []string{"extra"}, Want: "no arguments"},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-burst")
}

func TestInterruptedRunStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // Ctrl-C before it starts
	var out, errb bytes.Buffer
	err := run(ctx, []string{"-n", "1000000"}, &out, &errb)
	require.ErrorIs(t, err, context.Canceled)
}

func TestTallyCountsLossDuplicationAndOrder(t *testing.T) {
	tests := []struct {
		name     string
		arrivals []string
		want     result
	}{
		{"all in order", []string{"1", "2", "3", "4"}, result{sent: 4, arrived: 4, distinct: 4}},
		{"one lost", []string{"1", "2", "4"}, result{sent: 4, arrived: 3, distinct: 3, missing: []int{3}}},
		{"one twice", []string{"1", "2", "2", "3", "4"}, result{sent: 4, arrived: 5, distinct: 4, duplicated: 1}},
		{"one overtaken", []string{"1", "3", "2", "4"}, result{sent: 4, arrived: 4, distinct: 4, reordered: 1}},
		{"late duplicate is not reordered", []string{"1", "2", "3", "4", "2"}, result{sent: 4, arrived: 5, distinct: 4, duplicated: 1}},
		{"strangers ignored", []string{"1", "hello", "0", "5", "2", "3", "4"}, result{sent: 4, arrived: 4, distinct: 4}},
		{"padded", []string{"1 ....", "2 ..", "3 .", "4 ."}, result{sent: 4, arrived: 4, distinct: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := newTally(4)
			for _, a := range tt.arrivals {
				tl.add([]byte(a))
			}
			assert.Equal(t, tt.want, tl.result("", 0))
		})
	}
}

func TestMessageCarriesItsNumberAndSize(t *testing.T) {
	msg := message(42, 20)
	assert.Len(t, msg, 20)
	assert.Equal(t, "42 .................", string(msg))
	assert.Equal(t, "1234567 ", string(message(1234567, minSize-1)), "a number never gets cut")
}

// FuzzTallyAdd feeds the receiver's parser whatever a datagram may carry:
// it must never panic, and must count every datagram once, as one of ours
// or as a stranger's.
func FuzzTallyAdd(f *testing.F) {
	for _, seed := range []string{"1", "7 ....", "0", "-3", "8", "99999999999999999999", "", " ", "4\x00"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		tl := newTally(7)
		tl.add(msg)
		tl.add(msg)
		assert.Equal(t, 2, tl.arrivals+tl.foreign)
		r := tl.result("", 0)
		assert.Equal(t, 7, r.distinct+len(r.missing))
		assert.Equal(t, r.arrived, r.distinct+r.duplicated)
	})
}

// lossy runs over real sockets, which the dashboard cannot show: -dashboard
// is refused in one line, before anything runs.
func TestDashboardIsRefused(t *testing.T) {
	demotest.CheckNoDashboard(t, run)
}
