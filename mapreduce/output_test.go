package mapreduce

import (
	"context"
	"iter"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// outputWatch records what readers of an output directory see while a job
// runs: every part file present, and its contents, each time it looks.
type outputWatch struct {
	dir string

	mu    sync.Mutex          // protects seen, looks
	seen  map[string][]string // part file → contents seen, in order
	looks int
}

// look lists the part files in the directory and reads each one.
func (w *outputWatch) look() {
	w.mu.Lock()
	w.looks++
	w.mu.Unlock()
	parts, _ := filepath.Glob(filepath.Join(w.dir, "part-[0-9][0-9][0-9][0-9][0-9]"))
	for _, p := range parts {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // renamed over meanwhile: the next look sees the new one
		}
		w.mu.Lock()
		w.seen[p] = append(w.seen[p], string(b))
		w.mu.Unlock()
	}
}

// watchedJob is a word count whose Reduce looks at the output directory
// every few keys, that is, while its own task's output is being written
// (and perhaps other tasks' too, and after others have committed theirs),
// and writes enough (a filler line per key) for the writes to reach the
// file part by part.
func watchedJob(inputs []string, w *outputWatch) Job {
	job := wordCount(inputs, w.dir, 2)
	reduce := job.Reduce
	keys := 0
	var mu sync.Mutex
	job.Reduce = func(key string, values iter.Seq[string], out Emitter) {
		mu.Lock()
		keys++
		look := keys%16 == 0
		mu.Unlock()
		if look {
			w.look()
		}
		reduce(key, values, out)
		out.Emit(key+"~", strings.Repeat("x", 1000))
	}
	return job
}

// TestPartFilesAppearOnlyWhole checks the commit rule from a reader's
// side: whenever a part file is in the output directory, it is complete.
// A reduce task that wrote its output under the final name would show it
// empty or cut short to the Reduce calls that follow.
func TestPartFilesAppearOnlyWhole(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 31, 4, 16<<10)
	runs := []struct {
		name string
		run  func(t *testing.T, job Job) Result
	}{
		{"sequential", func(t *testing.T, job Job) Result {
			res, err := RunSequential(context.Background(), job)
			require.NoError(t, err)
			return res
		}},
		{"workers", func(t *testing.T, job Job) (res Result) {
			inSim(t, 31, func(t *testing.T, n *netsim.Network) {
				var err error
				res, err = Run(context.Background(), job, WithNetwork(n), WithWorkers(3), WithScratchDir(t.TempDir()))
				require.NoError(t, err)
			})
			return res
		}},
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Parallel()
			w := &outputWatch{dir: t.TempDir(), seen: map[string][]string{}}
			res := r.run(t, watchedJob(inputs, w))
			require.Positive(t, w.looks, "the watch looked while reduce output was being written")
			w.look() // after the job: every part file is there
			require.Equal(t, res.Outputs, slices.Sorted(maps.Keys(w.seen)))
			for path, contents := range w.seen {
				final, err := os.ReadFile(path)
				require.NoError(t, err)
				require.Greater(t, len(final), outputBufferSize, "the output is written in several writes")
				for i, c := range contents {
					if c != string(final) {
						t.Errorf("%s, look %d of %d: %d bytes seen, but the file has %d",
							filepath.Base(path), i+1, len(contents), len(c), len(final))
						break
					}
				}
			}
		})
	}
}
