package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"

	"os"
	"path/filepath"
	"strings"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var accountRE = regexp.MustCompile(`(?m)^(\w+)\s+received\s+(\d+) messages; the server dropped\s+(\d+) meant for \w+: (\d+) of (\d+) accounted for$`)

func TestSlowReaderLosesMessagesAndTheRoomGoesOn(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-messages", "300", "-pace", "0", "-slow", "5ms", "-queue", "4"}, &out, &errb)
	require.NoError(t, err, errb.String())

	rows := accountRE.FindAllStringSubmatch(out.String(), -1)
	require.Len(t, rows, 3, out.String())
	for _, row := range rows {
		name := row[1]
		got, _ := strconv.Atoi(row[2])
		dropped, _ := strconv.Atoi(row[3])
		want, _ := strconv.Atoi(row[5])
		assert.Equal(t, want, got+dropped, "%s: every message is either received or reported dropped", name)
		if name == "carol" {
			assert.Equal(t, 600, want)
			assert.Positive(t, dropped, "carol reads slowly: the server dropped some of hers")
		}
	}
	assert.Contains(t, out.String(), "carol's queue of 4 is full")
}

func TestNobodyBlamedWhenNothingWasLost(t *testing.T) {
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-messages", "3", "-slow", "5ms"}, &out, &errb)
	require.NoError(t, err, errb.String())
	rows := accountRE.FindAllStringSubmatch(out.String(), -1)
	require.Len(t, rows, 3, out.String())
	for _, row := range rows {
		assert.Equal(t, "0", row[3], "%s: a backlog of 6 messages fits in the queue and TCP's buffers", row[1])
	}
	assert.NotContains(t, out.String(), "lost messages", "no one is said to have lost anything")
}

func TestEveryoneWhoLostIsNamed(t *testing.T) {
	var out bytes.Buffer
	conclude(&out, config{queue: 8}, []string{"alice", "bob", "carol"})
	assert.Contains(t, out.String(), "alice, bob and carol lost messages")
	out.Reset()
	conclude(&out, config{queue: 8}, []string{"carol"})
	assert.Contains(t, out.String(), "the slow reader lost messages")
	assert.NotContains(t, out.String(), "alice")
}

func TestBadFlagsAreExplained(t *testing.T) {
	demotest.CheckUsage(t, run, "chat", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "zero queue", Args: []string{"-queue", "0"}, Want: "-queue must be at least 1"},
		{Name: "stray argument", Args: []string{"extra"}, Want: "no arguments"},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-slow")
}

func TestTraceDrawsTheRun(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-messages", "3", "-pace", "0", "-slow", "0", "-trace", dir}, &out, &errb)
	require.NoError(t, err, errb.String())
	assert.Contains(t, out.String(), filepath.Join(dir, trace.HTMLFile))

	page, err := os.ReadFile(filepath.Join(dir, trace.HTMLFile))
	require.NoError(t, err)
	for _, node := range []string{"alice", "bob", "carol", "server"} {
		assert.Contains(t, string(page), node, "every member and the server has a line in the diagram")
	}
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	// 3 joins, 3 welcomes, 6 messages, each relayed to 2 members: at least
	// 3+3+6+12 sends, each with a receive.
	assert.GreaterOrEqual(t, strings.Count(string(events), `"kind":"send"`), 24)
}

// chat runs over real sockets, which the dashboard cannot show: -dashboard
// is refused in one line, before anything runs.
func TestDashboardIsRefused(t *testing.T) {
	demotest.CheckNoDashboard(t, run)
}

// The room's own drops (a full queue) are in the diagram, as discards of
// the server's: one per message the room dropped, toward the member it was
// for. The run is short enough that the trace keeps every event.
func TestTraceDrawsTheRoomsDrops(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-messages", "60", "-pace", "0", "-slow", "20ms", "-queue", "1", "-trace", dir}, &out, &errb)
	require.NoError(t, err, errb.String())
	rows := accountRE.FindAllStringSubmatch(out.String(), -1)
	require.Len(t, rows, 3, out.String())

	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	discards := map[string]int{}
	for _, line := range strings.Split(string(events), "\n") {
		if strings.Contains(line, `"kind":"discard"`) {
			var e trace.Event
			require.NoError(t, json.Unmarshal([]byte(line), &e))
			assert.Equal(t, "server", e.Node)
			assert.Equal(t, "queue full", e.Note)
			discards[e.Peer]++
		}
	}
	for _, row := range rows {
		dropped, _ := strconv.Atoi(row[3])
		assert.Equal(t, dropped, discards[row[1]], "%s: every message the room dropped for %s is drawn", row[1], row[1])
	}
	assert.Positive(t, discards["carol"], "carol's queue of 1 overflowed")
}
