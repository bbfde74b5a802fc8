package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"os"
	"path/filepath"
	"strings"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// talk runs the room with cfg (and its trace, if cfg.traceDir is set) and
// returns each member's account, and the narration for failure messages.
func talk(t *testing.T, cfg config) (map[string]account, string) {
	t.Helper()
	var out bytes.Buffer
	tr := demo.NewTracer(cfg.traceDir, "chat room")
	require.NoError(t, tr.Prepare())
	accounts, err := chat(context.Background(), cfg, tr, &out)
	require.NoError(t, err, out.String())
	require.NoError(t, tr.Write(&out))
	require.Len(t, accounts, 3, out.String())
	return accounts, out.String()
}

func TestSlowReaderLosesMessagesAndTheRoomGoesOn(t *testing.T) {
	accounts, out := talk(t, config{messages: 300, queue: 4, slow: 5 * time.Millisecond})
	for name, a := range accounts {
		assert.Equal(t, a.meant, a.received+a.dropped, "%s: every message is either received or reported dropped\n%s", name, out)
	}
	assert.Equal(t, 300, accounts["alice"].meant, "bob's messages")
	assert.Equal(t, 600, accounts["carol"].meant, "alice's and bob's")
	assert.Positive(t, accounts["carol"].dropped, "carol reads slowly: the server dropped some of hers")
}

func TestNothingIsLostWhenTheBacklogFits(t *testing.T) {
	accounts, out := talk(t, config{messages: 3, queue: 8, pace: 2 * time.Millisecond, slow: 5 * time.Millisecond})
	for name, a := range accounts {
		assert.Zero(t, a.dropped, "%s: a backlog of 6 messages fits in the queue and TCP's buffers\n%s", name, out)
		assert.Equal(t, a.meant, a.received, name)
	}
}

func TestJoinAndNamesEveryone(t *testing.T) {
	assert.Equal(t, "carol", joinAnd([]string{"carol"}))
	assert.Equal(t, "alice and bob", joinAnd([]string{"alice", "bob"}))
	assert.Equal(t, "alice, bob and carol", joinAnd([]string{"alice", "bob", "carol"}))
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

// The room's own drops (a full queue) are in the diagram, as discards of
// the server's: one per message the room dropped, toward the member it was
// for. The run is short enough that the trace keeps every event.
func TestTraceDrawsTheRoomsDrops(t *testing.T) {
	dir := t.TempDir()
	accounts, _ := talk(t, config{messages: 60, queue: 1, slow: 20 * time.Millisecond, traceDir: dir})

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
	for name, a := range accounts {
		assert.Equal(t, a.dropped, discards[name], "%s: every message the room dropped for %s is drawn", name, name)
	}
	assert.Positive(t, discards["carol"], "carol's queue of 1 overflowed")
}
