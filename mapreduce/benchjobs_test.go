package mapreduce

import (
	"bufio"
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// The word-count benchmark's corpus and jobs, its hand-tuned baseline, and
// a test that the jobs count right.

// A benchCorpus is the word-count benchmark's input.
type benchCorpus struct {
	files        []string
	bytes, words int64
}

// corpus writes files totalling about mb MB of text into a
// temporary directory: words of a 50,000-word vocabulary drawn with Zipf's
// law, as in natural language, five to fifteen to a line.
func corpus(b *testing.B, mb int) benchCorpus {
	b.Helper()
	dir := b.TempDir()
	rng := rand.New(rand.NewPCG(42, 42))
	vocab := make([]string, 50000)
	for i := range vocab {
		w := make([]byte, 2+rng.IntN(9))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		vocab[i] = string(w)
	}
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(vocab)-1))
	const nFiles = 8
	per := int64(mb) << 20 / nFiles
	var c benchCorpus
	for i := range nFiles {
		path := filepath.Join(dir, fmt.Sprintf("corpus-%d.txt", i))
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		var n int64
		for n < per {
			for j, words := 0, 5+rng.IntN(10); j < words; j++ {
				if j > 0 {
					w.WriteByte(' ')
					n++
				}
				k, _ := w.WriteString(vocab[zipf.Uint64()])
				n += int64(k)
				c.words++
			}
			w.WriteByte('\n')
			n++
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		f.Close()
		c.files = append(c.files, path)
		c.bytes += n
	}
	return c
}

// countWords is the benchmark's Map: it splits on ASCII white space
// without allocating, and emits each word with a count of one.
func countWords(_, contents string, out Emitter) {
	start := -1
	for i := 0; i < len(contents); i++ {
		if c := contents[i]; c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			if start >= 0 {
				out.Emit(contents[start:i], "1")
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out.Emit(contents[start:], "1")
	}
}

func sumCounts(values iter.Seq[string]) string {
	n := 0
	for v := range values {
		k, _ := strconv.Atoi(v)
		n += k
	}
	return strconv.Itoa(n)
}

func benchJob(inputs []string, out string) Job {
	return Job{
		Name: "wordcount", Inputs: inputs, OutputDir: out, NReduce: 4,
		Map:     countWords,
		Reduce:  func(key string, values iter.Seq[string], out Emitter) { out.Emit(key, sumCounts(values)) },
		Combine: func(_ string, values iter.Seq[string]) string { return sumCounts(values) },
	}
}

// countWordsInMapper is countWords with in-mapper combining (Lin and
// Dyer, "Data-Intensive Text Processing with MapReduce", 3.1): it counts
// its split's words in a map of its own and emits each distinct word once,
// with its count. The framework then handles one pair per word and split
// rather than one per occurrence; the Map's memory grows with the
// vocabulary, not with the split.
func countWordsInMapper(_, contents string, out Emitter) {
	counts := map[string]*int{} // as in tunedCount: a hit is a lookup, not an assignment
	add := func(w string) {
		if c := counts[w]; c != nil {
			*c++
			return
		}
		n := 1
		counts[w] = &n
	}
	start := -1
	for i := 0; i < len(contents); i++ {
		if c := contents[i]; c == ' ' || c == '\n' || c == '\t' || c == '\r' {
			if start >= 0 {
				add(contents[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		add(contents[start:])
	}
	for w, n := range counts {
		out.Emit(w, strconv.Itoa(*n))
	}
}

// benchJobInMapper is benchJob with in-mapper combining.
func benchJobInMapper(inputs []string, out string) Job {
	job := benchJob(inputs, out)
	job.Map = countWordsInMapper
	return job
}

// tunedCount is a hand-tuned in-memory count: each of par goroutines reads
// whole files and counts into its own map, without allocating per word;
// the maps are merged at the end.
func tunedCount(inputs []string, par int) (map[string]int, error) {
	counts := make([]map[string]*int, par)
	errs := make([]error, par)
	var wg sync.WaitGroup
	for p := range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := map[string]*int{}
			counts[p] = m
			for i := p; i < len(inputs); i += par {
				data, err := os.ReadFile(inputs[i])
				if err != nil {
					errs[p] = err
					return
				}
				start := -1
				for j, c := range data {
					if c == ' ' || c == '\n' {
						if start >= 0 {
							bump(m, data[start:j])
							start = -1
						}
					} else if start < 0 {
						start = j
					}
				}
				if start >= 0 {
					bump(m, data[start:])
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	total := map[string]int{}
	for _, m := range counts {
		for k, v := range m {
			total[k] += *v
		}
	}
	return total, nil
}

// bump adds one to word's count; looking up m[string(word)] does not
// allocate, so only a new word costs an allocation.
func bump(m map[string]*int, word []byte) {
	c := m[string(word)]
	if c == nil {
		c = new(int)
		m[string(word)] = c
	}
	*c++
}

// TestBenchmarkJobsAreRight checks the benchmark's jobs against the tuned
// count, on a small corpus, so that the benchmark measures correct jobs.
func TestBenchmarkJobsAreRight(t *testing.T) {
	t.Parallel()
	inputs := writeCorpus(t, t.TempDir(), 16, 3, 64<<10)
	want, err := tunedCount(inputs, 2)
	require.NoError(t, err)
	for name, job := range map[string]func([]string, string) Job{"emit per word": benchJob, "in-mapper": benchJobInMapper} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res, err := RunSequential(context.Background(), withSplit(job(inputs, t.TempDir()), 50<<10))
			require.NoError(t, err)
			got := map[string]int{}
			for _, p := range res.Outputs {
				data, err := os.ReadFile(p)
				require.NoError(t, err)
				for line := range strings.Lines(string(data)) {
					w, n, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
					require.True(t, ok, "line %q", line)
					got[w], err = strconv.Atoi(n)
					require.NoError(t, err)
				}
			}
			require.Equal(t, want, got)
		})
	}
}
