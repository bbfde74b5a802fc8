package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runLossy runs the three runs with cfg and returns what they did, and
// the narration (for failure messages).
func runLossy(t *testing.T, cfg config, tr *demo.Tracer) (runs, string) {
	t.Helper()
	var out bytes.Buffer
	rs, err := lossy(context.Background(), cfg, tr, &out)
	require.NoError(t, err, out.String())
	for _, r := range []result{rs.raw, rs.bad, rs.rel.result} {
		assert.Equal(t, r.sent, r.distinct+len(r.missing), "%s: every message arrived or is counted lost", r.name)
	}
	return rs, out.String()
}

// noTrace is the tracer of a run that draws nothing.
func noTrace() *demo.Tracer { return demo.NewTracer("", "") }

func TestFaultsDamageUDPAndReliableRepairsIt(t *testing.T) {
	t.Parallel()
	cfg := defaults()
	cfg.n = 300
	cfg.faults = transport.Faults{Drop: 0.1, Duplicate: 0.1, Reorder: 0.1, Seed: 3}
	rs, out := runLossy(t, cfg, noTrace())

	assert.Equal(t, 300, rs.raw.sent)
	assert.Zero(t, rs.raw.duplicated, "loopback never duplicates")

	assert.Positive(t, rs.did.Dropped, "the seed's faults drop some datagrams")
	assert.GreaterOrEqual(t, int64(len(rs.bad.missing)), rs.did.Dropped, "what the faults dropped is lost")
	assert.Positive(t, rs.bad.duplicated, "the faults' duplicates arrive twice")
	assert.False(t, rs.bad.perfect())

	rel := rs.rel
	require.NoError(t, rel.err, out)
	assert.Equal(t, 300, rel.sent)
	assert.Equal(t, 300, rel.arrived, "every message arrived once")
	assert.True(t, rel.perfect(), "the reliable run delivers all, once, in order")
	assert.Positive(t, rel.sender.Retransmissions, "the faults hit the reliable run too")
}

func TestReceiverWaitsForDelayedDatagrams(t *testing.T) {
	t.Parallel()
	// Small messages, so that the kernel's buffer holds them all even if
	// the receiver is slow: only the delay can make them late.
	cfg := defaults()
	cfg.n, cfg.size = 100, 20
	cfg.faults = transport.Faults{Delay: 30 * time.Millisecond, Jitter: 10 * time.Millisecond, Seed: 1}
	rs, _ := runLossy(t, cfg, noTrace())
	assert.Equal(t, 100, rs.bad.arrived, "the quiet period covers the delay: nothing was given up on")
	assert.Zero(t, rs.bad.duplicated)
	assert.True(t, rs.rel.perfect())
}

func TestTraceDrawsTheReliableRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-n", "10", "-trace", dir}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), filepath.Join(dir, trace.HTMLFile), "the path of the diagram is printed")
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		assert.FileExists(t, filepath.Join(dir, name))
	}
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	assert.Equal(t, 10, strings.Count(string(events), `"kind":"send"`), "one send per message")
	assert.Equal(t, 10, strings.Count(string(events), `"kind":"receive"`), "each received once")
	assert.Contains(t, string(events), "message 10")
}

func TestAHopelessNetworkGivesUpAndCountsTheLoss(t *testing.T) {
	cfg := defaults()
	cfg.n, cfg.silence = 20, time.Second
	cfg.faults = transport.Faults{Drop: 1, Seed: 1}
	rs, out := runLossy(t, cfg, noTrace())
	require.Error(t, rs.rel.err, "the reliable run gave up\n%s", out)
	assert.Zero(t, rs.rel.distinct, "nothing arrived")
	assert.Len(t, rs.rel.missing, 20, "everything was lost")
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
