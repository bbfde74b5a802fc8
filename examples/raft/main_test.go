package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// runDemo runs the demo with args in a synctest bubble, so that its
// elections and timeouts pass in virtual time, and returns what it printed.
func runDemo(t *testing.T, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
	})
	return out.String()
}

func TestTheStoryIsToldFromWhatHappened(t *testing.T) {
	out := runDemo(t)
	for _, re := range []string{
		`(?m)^   n\d timed out first, won the votes of a majority, and leads term 1\.$`,
		`all 5 servers applied them`,
		`which reach 2 of 5 servers, not a majority: they cannot commit`,
		`won the election of term \d+\.`,
		`stepped down: it had not heard from a majority`,
		`Servers that applied its commands: 0\.`,
		`(?m)^   - n\d had 2 entries of term 1 at indexes 5-6; 2 were replaced by n\d's\.$`,
		`All 5 servers applied the same 5 commands: x=1 x=2 x=3 z=1 z=2\.`,
		`y=1 and y=2 are in no log`,
	} {
		assert.Regexp(t, regexp.MustCompile(re), out)
	}
}

func TestTheSameSeedTellsTheSameStory(t *testing.T) {
	for _, seed := range []string{"1", "2", "3", "7", "11"} {
		first := runDemo(t, "-seed", seed)
		assert.Equal(t, first, runDemo(t, "-seed", seed), "seed %s", seed)
	}
}

func TestThreeServers(t *testing.T) {
	out := runDemo(t, "-n", "3")
	assert.Contains(t, out, "which reach 1 of 3 servers, not a majority")
	assert.Contains(t, out, "All 3 servers applied the same 5 commands")
}

func TestTraceDrawsTheRun(t *testing.T) {
	dir := t.TempDir()
	out := runDemo(t, "-trace", dir)
	assert.Contains(t, out, filepath.Join(dir, trace.HTMLFile))
	html, err := os.ReadFile(filepath.Join(dir, trace.HTMLFile))
	require.NoError(t, err)
	assert.Contains(t, string(html), "AppendEntries", "arrows are named after the raft messages")
	assert.Contains(t, string(html), "partition", "the diagram marks the partition")
}

func TestBadFlagsAreExplained(t *testing.T) {
	demotest.CheckUsage(t, run, "raft", []demotest.UsageCase{
		{Args: []string{"-n", "2"}, Want: "-n must be between 3 and 7"},
		{Args: []string{"extra"}, Want: "raft takes no arguments"},
		{Args: []string{"-nosuchflag"}, Want: "flag provided but not defined"},
		{Args: []string{"-tick", "50ms"}, Want: "-tick is for the live demo: add -dashboard ADDR"},
		{Args: []string{"-dashboard", "127.0.0.1:0", "-tick", "0s"}, Want: "-tick must be between 1ms and 1s"},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-trace")
	demotest.CheckHelp(t, run, "-dashboard")
}
