package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
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

// story runs the three steps on n servers in a synctest bubble and
// returns what happened, and the narration (for failure messages).
func story(t *testing.T, n int) (outcome, string) {
	t.Helper()
	var out bytes.Buffer
	var o outcome
	synctest.Test(t, func(t *testing.T) {
		c, err := newCluster(n, 1, demo.NewTracer("", ""), timing{delay: linkDelay})
		require.NoError(t, err)
		o, err = tell(context.Background(), &out, c)
		c.close()
		require.NoError(t, err)
	})
	return o, out.String()
}

func TestAPartitionedLeaderCannotCommitAndItsEntriesAreRepaired(t *testing.T) {
	tests := []struct {
		servers, minority int
	}{
		{servers: 5, minority: 2},
		{servers: 3, minority: 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.servers), func(t *testing.T) {
			o, out := story(t, tt.servers)
			assert.Equal(t, tt.servers, o.servers, out)
			assert.Equal(t, tt.minority, o.minority, "the old leader is cut off with fewer than a majority\n%s", out)
			assert.Zero(t, o.appliedMinority, "no server applied what the minority's leader took")
			assert.True(t, o.steppedDown, "the old leader stepped down (CheckQuorum)")
			assert.Greater(t, o.newTerm, o.term, "the majority elected a leader in a later term")
			require.Len(t, o.had, tt.minority)
			assert.Equal(t, 2, o.had[0], "the old leader had both its uncommitted entries")
			assert.Equal(t, o.had, o.replaced, "log repair replaced every uncommitted entry")
			assert.Equal(t, []string{"x=1", "x=2", "x=3", "z=1", "z=2"}, o.applied, "every server applied exactly the committed commands")
			assert.Zero(t, o.appliedAfterHeal, "the uncommitted commands are in no log")
		})
	}
}

func TestTheSameSeedTellsTheSameStory(t *testing.T) {
	for _, seed := range []string{"1", "2", "3", "7", "11"} {
		first := runDemo(t, "-seed", seed)
		assert.Equal(t, first, runDemo(t, "-seed", seed), "seed %s", seed)
	}
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
