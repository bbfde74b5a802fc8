//go:build linux && netns

package nstest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/netns"
)

// writeInputs writes files of random words (seeded, so every run has the
// same input) and returns their paths. Every namespace sees the same file
// system, as machines with a copy of the input do.
func writeInputs(t *testing.T, files, size int) []string {
	t.Helper()
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 5000)
	for i := range words {
		words[i] = fmt.Sprintf("w%x", r.Uint32()%1_000_000)
	}
	var paths []string
	for f := range files {
		var b strings.Builder
		for b.Len() < size {
			for range 12 {
				// A skewed choice, as in text: a few words are everywhere.
				b.WriteString(words[int(float64(len(words))*r.Float64()*r.Float64())])
				b.WriteByte(' ')
			}
			b.WriteByte('\n')
		}
		p := filepath.Join(dir, fmt.Sprintf("in-%02d.txt", f))
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
		paths = append(paths, p)
	}
	return paths
}

// mrJob is a word count across namespaces: a coordinator and workers,
// each on a node of its own.
type mrJob struct {
	in      []string
	out     string
	args    []string // the job flags, shared with the sequential run
	coord   *program
	cnode   *netns.Node
	workers []*program
	nodes   []*netns.Node // the workers'
}

// startJob starts the coordinator and nWorkers workers, with the failure
// timeout given, on nodes made with opts.
func startJob(t *testing.T, n *netns.Net, nWorkers int, timeout time.Duration, in []string, opts ...netns.NodeOption) *mrJob {
	t.Helper()
	j := &mrJob{in: in, out: t.TempDir(), args: []string{"-job", "wordcount", "-nreduce", "4", "-split", "262144"}}
	cn := n.AddNode("coord", opts...)
	j.cnode = cn
	args := slices.Concat([]string{"coordinator", "-listen", cn.Addr(7090), "-workers", strconv.Itoa(nWorkers),
		"-timeout", timeout.String(), "-out", j.out}, j.args, in)
	j.coord = start(t, cn, "mapreduce", args...)
	j.coord.stderr.WaitLine(t, "coordinator listening on")
	for i := range nWorkers {
		nd := n.AddNode(fmt.Sprintf("w%d", i+1), opts...)
		j.nodes = append(j.nodes, nd)
		j.workers = append(j.workers, start(t, nd, "mapreduce", "worker", "-coordinator", cn.Addr(7090), "-timeout", timeout.String()))
	}
	return j
}

var progressRE = regexp.MustCompile(`map (\d+)/(\d+)  reduce (\d+)/(\d+)`)

// waitMaps waits until the coordinator reports at least k map tasks done,
// or all of them if k is -1.
func (j *mrJob) waitMaps(t *testing.T, k int) {
	t.Helper()
	j.waitProgress(t, fmt.Sprintf("%d map tasks done", k), func(done, total int) bool {
		return done >= k && (k >= 0 || done == total)
	})
}

// waitProgress waits for a progress line of the coordinator whose counts
// of map tasks done and in all satisfy cond.
func (j *mrJob) waitProgress(t *testing.T, what string, cond func(done, total int) bool) {
	t.Helper()
	j.coord.stderr.WaitMatch(t, what, func(line string) bool {
		m := progressRE.FindStringSubmatch(line)
		if m == nil {
			return false
		}
		done, _ := strconv.Atoi(m[1])
		total, _ := strconv.Atoi(m[2])
		return cond(done, total)
	})
}

// waitHalfTheMaps waits until half the map tasks are done. Reducers start
// only after the map phase, so the map output of every worker is still
// needed then: a worker lost now is missed by the reducers if not before.
func (j *mrJob) waitHalfTheMaps(t *testing.T) {
	t.Helper()
	j.waitProgress(t, "half the map tasks done", func(done, total int) bool { return 2*done >= total })
}

// finish waits for the coordinator to end the job, checks that it
// succeeded, and returns how long the job took.
func (j *mrJob) finish(t *testing.T, started time.Time) time.Duration {
	t.Helper()
	select {
	case <-j.coord.Done():
	case <-time.After(2 * time.Minute):
		t.Fatal("the job did not end in 2 minutes")
	}
	took := time.Since(started)
	require.NoError(t, j.coord.Wait(), "the coordinator fails the job")
	return took
}

// checkOutput checks that the job's output files equal the sequential
// run's, byte for byte.
func (j *mrJob) checkOutput(t *testing.T) {
	t.Helper()
	oracle := t.TempDir()
	cmd := exec.Command(bin(t, "mapreduce"), slices.Concat([]string{"sequential", "-out", oracle}, j.args, j.in)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	want, err := filepath.Glob(filepath.Join(oracle, "part-*"))
	require.NoError(t, err)
	require.Len(t, want, 4)
	for _, w := range want {
		wb, err := os.ReadFile(w)
		require.NoError(t, err)
		gb, err := os.ReadFile(filepath.Join(j.out, filepath.Base(w)))
		require.NoError(t, err)
		assert.True(t, string(wb) == string(gb), "%s differs from the sequential run's (%d bytes, want %d)", filepath.Base(w), len(gb), len(wb))
	}
}

// lostWorkers returns the coordinator's count of lost workers, from its
// last progress line.
func (j *mrJob) lostWorkers() int {
	m := regexp.MustCompile(`lost workers (\d+)`).FindAllStringSubmatch(j.coord.stderr.String(), -1)
	if m == nil {
		return 0
	}
	k, _ := strconv.Atoi(m[len(m)-1][1])
	return k
}

func TestMapReduceAcrossNamespaces(t *testing.T) {
	n := netns.New(t)
	j := startJob(t, n, 3, 3*time.Second, writeInputs(t, 6, 1<<20))
	j.finish(t, time.Now())
	j.checkOutput(t)
	for _, w := range j.workers {
		require.NoError(t, w.Wait(), "the coordinator tells its workers the job is over")
	}
}

// TestMapReduceWorkerCutOff cuts a worker's link mid-job and leaves it cut:
// the coordinator declares it lost (after the timeout, or when a reducer
// cannot reach it), and runs its tasks again elsewhere, its finished map
// tasks included, whose output no reducer can fetch any more.
func TestMapReduceWorkerCutOff(t *testing.T) {
	n := netns.New(t)
	j := startJob(t, n, 3, 2*time.Second, writeInputs(t, 8, 2<<20))
	j.waitHalfTheMaps(t)
	require.NoError(t, j.nodes[0].Cut())
	j.finish(t, time.Now())
	j.checkOutput(t)
	assert.GreaterOrEqual(t, j.lostWorkers(), 1)
}

// TestMapReduceWorkerKilled kills a worker mid-job, as a power cut would.
func TestMapReduceWorkerKilled(t *testing.T) {
	n := netns.New(t)
	j := startJob(t, n, 3, 2*time.Second, writeInputs(t, 8, 2<<20))
	j.waitHalfTheMaps(t)
	j.workers[0].Kill()
	j.finish(t, time.Now())
	j.checkOutput(t)
	assert.GreaterOrEqual(t, j.lostWorkers(), 1)
}

// TestMapReduceUnderLoss runs the job with 5% loss each way on every
// link, the coordinator's included.
func TestMapReduceUnderLoss(t *testing.T) {
	n := netns.New(t)
	in := writeInputs(t, 6, 1<<20)
	j := startJob(t, n, 3, 5*time.Second, in)
	setLoss(t, j.cnode, 0.05)
	for _, nd := range j.nodes {
		setLoss(t, nd, 0.05)
	}
	j.finish(t, time.Now())
	j.checkOutput(t)
}
