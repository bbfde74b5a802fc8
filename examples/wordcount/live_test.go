package main

import (
	"path/filepath"
	"regexp"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo/demotest"
)

// jobRE matches the end of a live round that ran: its lost workers and
// whether its output matched RunSequential's.
var jobRE = regexp.MustCompile(`Done in \S+: \d+ attempts for \d+ tasks, \d+ re-executed, (\d+) lost workers\. The output (is exact|DIFFERS)`)

// tallyRE matches the last line of a live round.
var tallyRE = regexp.MustCompile(`Jobs so far: (\d+) exact, (\d+) failed\.`)

// tally returns the last counts of jobs in out, and checks that every
// job that ran made the exact output.
func tally(t *testing.T, out string) (exact, failed int) {
	t.Helper()
	for _, m := range jobRE.FindAllStringSubmatch(out, -1) {
		require.Equal(t, "is exact", m[2], "every job that finishes is exact\n%s", out)
	}
	all := tallyRE.FindAllStringSubmatch(out, -1)
	require.NotEmpty(t, all, out)
	exact, _ = strconv.Atoi(all[len(all)-1][1])
	failed, _ = strconv.Atoi(all[len(all)-1][2])
	return exact, failed
}

// With -dashboard the job runs again and again until Ctrl-C. A worker
// crashed on the page in the middle of a job is declared lost, its work
// is done again, and the output is still exact; with the coordinator
// crashed no job runs, and once it restarts jobs run again.
func TestDashboardDrivesTheLiveDemo(t *testing.T) {
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	l := demotest.StartLive(t, run, append([]string{"-split", "16KiB", "-workers", "2"}, files...)...)
	exact, _ := tally(t, l.Await(t, `(?s)Job 1:.*?Jobs so far[^\n]*`)[0])
	assert.Equal(t, 1, exact)
	l.CheckPage(t, "wordcount: MapReduce, live", "coordinator", "worker-1", "worker-2")
	l.CheckNarrated(t, "Each round the coordinator runs the whole job again")

	// Slow messages make a job last long enough to crash a worker in it:
	// once the map phase is over, with the map output on its disk.
	l.Post(t, "api/faults", `{"delayMs": 40}`)
	job := l.Await(t, `(?s)Faults changed.*?Job (\d+):\n[^J]*?map phase over`)[1]
	l.Post(t, "api/crash", `{"node": "worker-2"}`)
	m := l.Await(t, `(?s)Job `+job+`:\n.*?Done in \S+: \d+ attempts for \d+ tasks, \d+ re-executed, (\d+) lost workers\. The output is exact`)
	lost, _ := strconv.Atoi(m[1])
	assert.Positive(t, lost, "the crashed worker is declared lost:\n%s", m[0])
	l.CheckPage(t, "wordcount: MapReduce, live", "worker-2.2")

	l.Post(t, "api/faults", `{"delayMs": 0}`)
	l.Post(t, "api/crash", `{"node": "coordinator"}`)
	_, failed := tally(t, l.Await(t, `(?s)coordinator crashed.*?The job FAILED: the coordinator's node is down.*?Jobs so far[^\n]*`)[0])
	assert.Positive(t, failed)
	l.Post(t, "api/restart", `{"node": "coordinator"}`)
	after, _ := tally(t, l.Await(t, `(?s)coordinator restarted.*?The output is exact.*?Jobs so far[^\n]*`)[0])
	assert.Greater(t, after, exact)
	l.Stop(t)
	tally(t, l.Output())
}
