package trace_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

// fixedClock returns a clock that starts at a fixed instant and moves one
// millisecond per reading, so that traces compare equal across runs.
func fixedClock() func() time.Time {
	t := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	return func() time.Time {
		t = t.Add(time.Millisecond)
		return t
	}
}

// sampleTrace records a small exchange with every kind of event: local
// events, labelled messages, a duplicate delivery, a message lost on the
// wire, and a failed send.
func sampleTrace(t *testing.T) *trace.Recorder {
	t.Helper()
	rec := trace.NewRecorder(trace.WithTitle("sample <trace> & friends"), trace.WithClock(fixedClock()))
	a, b := rec.Node("a"), rec.Node("b node")
	// a's messages to b: the first is duplicated, the third dropped.
	l := newLink(t, a, b, transport.Faults{}, transport.Faults{})
	defer l.close()

	a.Log("start\nof it all")
	send(t, l.ab, "one")
	recv(t, l.ba, "one")
	require.NoError(t, l.ba.Send(trace.ContextWithLabel(t.Context(), "KV.Get"), []byte{0, 1, 2}))
	recv(t, l.ab, "\x00\x01\x02")
	require.NoError(t, l.fab.SetFaults(transport.Faults{Duplicate: 1}))
	send(t, l.ab, "twice")
	recv(t, l.ba, "twice")
	recv(t, l.ba, "twice")
	require.NoError(t, l.fab.SetFaults(transport.Faults{Drop: 1}))
	send(t, l.ab, "lost")
	b.Log("done")
	return rec
}

func TestShiVizLogParsesWithItsOwnRegexp(t *testing.T) {
	t.Parallel()
	events := sampleTrace(t).Events()
	var buf bytes.Buffer
	require.NoError(t, trace.WriteShiViz(&buf, events))

	header, log, ok := strings.Cut(buf.String(), "\n")
	require.True(t, ok)
	require.Equal(t, trace.ShiVizRegexp, header, "first line: the parsing regexp")
	log, ok = strings.CutPrefix(log, "\n")
	require.True(t, ok, "second line: the (empty) delimiter")

	re := regexp.MustCompile(trace.ShiVizRegexp)
	matches := re.FindAllStringSubmatch(log, -1)
	var want []trace.Event
	for _, e := range events {
		if e.Kind != trace.KindDrop {
			want = append(want, e)
		}
	}
	require.Len(t, matches, len(want), "one match per event:\n%s", log)
	host, clock, text := re.SubexpIndex("host"), re.SubexpIndex("clock"), re.SubexpIndex("event")
	last := map[string]uint64{}
	for i, m := range matches {
		e := want[i]
		assert.Equal(t, strings.ReplaceAll(e.Node, " ", "_"), m[host])
		var c map[string]uint64
		require.NoError(t, json.Unmarshal([]byte(m[clock]), &c), "clock %q", m[clock])
		assert.Equal(t, len(e.Clock), len(c))
		// ShiViz wants each host's own entry to count up by one from 1.
		assert.Equal(t, last[m[host]]+1, c[m[host]], "event %d of %s", i, m[host])
		last[m[host]] = c[m[host]]
		assert.NotContains(t, m[text], "\n")
	}
	assert.Contains(t, log, "send 4 bytes to b node [never received]\n", "the lost send says so")
	assert.Contains(t, log, "start of it all", "line breaks in text become spaces")
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	events := sampleTrace(t).Events()
	var buf bytes.Buffer
	require.NoError(t, trace.WriteJSON(&buf, events))
	assert.Equal(t, len(events), strings.Count(buf.String(), "\n"), "one line per event")
	got, err := trace.ReadJSON(&buf)
	require.NoError(t, err)
	require.Equal(t, events, got)
}

func TestReadJSONRejectsBadEvents(t *testing.T) {
	tests := []struct {
		name, give string
	}{
		{"not JSON", `{"node":`},
		{"unknown kind", `{"node":"a","kind":"teleport","clock":{"a":1}}`},
		{"no node", `{"kind":"local","clock":{"x":1}}`},
		{"clock without own entry", `{"node":"a","kind":"local","clock":{"b":1}}`},
		{"send without message number", `{"node":"a","kind":"send","clock":{"a":1}}`},
		{"receive from nobody", `{"node":"a","kind":"receive","clock":{"a":1},"msg":1}`},
		{"receive from the future", `{"node":"a","kind":"receive","clock":{"a":1,"b":1},"peer":"b","msg":2}`},
		{"second line bad", `{"node":"a","kind":"local","clock":{"a":1}}` + "\n" + `[1,2]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := trace.ReadJSON(strings.NewReader(tt.give))
			require.ErrorIs(t, err, trace.ErrBadEvent)
		})
	}
}

func FuzzReadJSON(f *testing.F) {
	f.Add(`{"node":"a","kind":"local","clock":{"a":1},"label":"x"}`)
	f.Add(`{"node":"a","kind":"send","clock":{"a":1},"peer":"b","msg":1,"size":3}` + "\n" +
		`{"node":"b","kind":"receive","clock":{"a":1,"b":1},"peer":"a","msg":1}`)
	f.Add(`{"node":"a","kind":"drop","clock":{"a":1},"msg":1,"note":"gone"}`)
	f.Fuzz(func(t *testing.T, in string) {
		events, err := trace.ReadJSON(strings.NewReader(in))
		if err != nil {
			require.ErrorIs(t, err, trace.ErrBadEvent)
			return
		}
		// Whatever was accepted renders, and reads back the same.
		var buf bytes.Buffer
		require.NoError(t, trace.WriteJSON(&buf, events))
		again, err := trace.ReadJSON(&buf)
		require.NoError(t, err)
		require.Equal(t, len(events), len(again))
		requireValidHTML(t, events)
		require.NoError(t, trace.WriteShiViz(io.Discard, events))
	})
}

func TestWriteFiles(t *testing.T) {
	t.Parallel()
	rec := sampleTrace(t)
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, rec.WriteFiles(dir))
	for _, name := range []string{trace.HTMLFile, trace.ShiVizFile, trace.JSONFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		assert.NotEmpty(t, b, name)
	}
	page, err := os.ReadFile(filepath.Join(dir, trace.HTMLFile))
	require.NoError(t, err)
	assert.Contains(t, string(page), "sample &lt;trace&gt; &amp; friends")

	require.Error(t, rec.WriteFiles(filepath.Join(dir, trace.HTMLFile, "x")), "a file is in the way")
}

func TestMaxEventsKeepsTheFirst(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder(trace.WithMaxEvents(3))
	n := rec.Node("a")
	for i := range 5 {
		e := n.Logf("event %d", i)
		assert.Equal(t, uint64(i+1), e.Clock["a"], "the clock runs on past the limit")
	}
	events := rec.Events()
	require.Len(t, events, 3)
	assert.Equal(t, "event 2", events[2].Label)
	assert.Equal(t, 2, rec.Omitted())
	assert.Equal(t, trace.VectorClock{"a": 5}, n.Clock())
}

// fakeTB records what WriteOnFailure does with a test, and can be made to
// fail without failing the real one.
type fakeTB struct {
	testing.TB
	failed   bool
	cleanups []func()
	logs     []string
}

func (f *fakeTB) Helper()           {}
func (f *fakeTB) Name() string      { return "TestSomething/sub case" }
func (f *fakeTB) Failed() bool      { return f.failed }
func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Logf(format string, a ...any) {
	f.logs = append(f.logs, strings.TrimSpace(fmt.Sprintf(format, a...)))
}

func (f *fakeTB) runCleanups() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestWriteOnFailure(t *testing.T) {
	base := t.TempDir()
	t.Setenv(trace.TraceDirEnv, base) // not parallel: it sets the environment
	dir := filepath.Join(base, "TestSomething_sub_case-seed42")

	passing := &fakeTB{TB: t}
	rec := trace.NewRecorder()
	rec.Node("a").Log("x")
	rec.WriteOnFailure(passing, 42)
	passing.runCleanups()
	assert.Empty(t, passing.logs)
	assert.NoDirExists(t, dir, "a passing test writes nothing")

	failing := &fakeTB{TB: t, failed: true}
	rec.WriteOnFailure(failing, 42)
	failing.runCleanups()
	require.Len(t, failing.logs, 1)
	assert.Contains(t, failing.logs[0], dir)
	assert.FileExists(t, filepath.Join(dir, trace.HTMLFile))
	assert.FileExists(t, filepath.Join(dir, trace.ShiVizFile))
	assert.FileExists(t, filepath.Join(dir, trace.JSONFile))

	// A directory that cannot be made is reported, not fatal.
	require.NoError(t, os.WriteFile(filepath.Join(base, "file"), nil, 0o644))
	t.Setenv(trace.TraceDirEnv, filepath.Join(base, "file"))
	blocked := &fakeTB{TB: t, failed: true}
	rec.WriteOnFailure(blocked, 1)
	blocked.runCleanups()
	require.Len(t, blocked.logs, 1)
	assert.Contains(t, blocked.logs[0], "could not write")
}

func TestEventsAreCopies(t *testing.T) {
	t.Parallel()
	rec := trace.NewRecorder()
	n := rec.Node("a")
	e := n.Log("x")
	e.Clock["a"] = 99 // the caller's to change
	rec.Events()[0].Clock["a"] = 98
	n.Clock()["a"] = 97
	assert.Equal(t, trace.VectorClock{"a": 1}, rec.Events()[0].Clock)
	assert.Equal(t, trace.VectorClock{"a": 2}, n.Log("y").Clock)
}
