package mapreduce

import (
	"fmt"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"
)

// The three classic jobs the tests run: word count (with a combiner), an
// inverted index, and a distributed grep (whose Reduce depends on the order
// of the values).

func wordCount(inputs []string, out string, nReduce int) Job {
	return Job{
		Name: "wordcount", Inputs: inputs, OutputDir: out, NReduce: nReduce,
		Map: func(_, contents string, out Emitter) {
			for _, w := range strings.FieldsFunc(contents, notLetter) {
				out.Emit(strings.ToLower(w), "1")
			}
			out.Count("map calls", 1)
		},
		Reduce: func(key string, values iter.Seq[string], out Emitter) {
			out.Emit(key, strconv.Itoa(sum(values)))
		},
		Combine: func(_ string, values iter.Seq[string]) string {
			return strconv.Itoa(sum(values))
		},
	}
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

func sum(values iter.Seq[string]) int {
	n := 0
	for v := range values {
		k, err := strconv.Atoi(v)
		if err != nil {
			panic(err)
		}
		n += k
	}
	return n
}

func invertedIndex(inputs []string, out string, nReduce int) Job {
	return Job{
		Name: "index", Inputs: inputs, OutputDir: out, NReduce: nReduce,
		Map: func(name, contents string, out Emitter) {
			seen := map[string]bool{}
			for _, w := range strings.FieldsFunc(contents, notLetter) {
				if !seen[w] {
					seen[w] = true
					out.Emit(w, filepath.Base(name))
				}
			}
		},
		Reduce: func(key string, values iter.Seq[string], out Emitter) {
			docs := slices.Compact(slices.Sorted(values))
			out.Emit(key, fmt.Sprintf("%d %s", len(docs), strings.Join(docs, ",")))
		},
	}
}

func grep(pattern string, inputs []string, out string, nReduce int) Job {
	return Job{
		Name: "grep", Inputs: inputs, OutputDir: out, NReduce: nReduce,
		Map: func(name, contents string, out Emitter) {
			for line := range strings.Lines(contents) {
				if strings.Contains(line, pattern) {
					out.Emit(filepath.Base(name), strings.TrimSuffix(line, "\n"))
					out.Count("matches", 1)
				}
			}
		},
		// Values arrive in input order: grep's output keeps the order of
		// the lines in each file.
		Reduce: func(key string, values iter.Seq[string], out Emitter) {
			for v := range values {
				out.Emit(key, v)
			}
		},
	}
}

// testJobs builds each kind of job over the same inputs.
var testJobs = []struct {
	name string
	make func(inputs []string, out string, nReduce int) Job
}{
	{"wordcount", wordCount},
	{"index", invertedIndex},
	{"grep", func(in []string, out string, n int) Job { return grep("ab", in, out, n) }},
}

// writeCorpus writes n files of about size bytes of deterministic text
// (words from a skewed vocabulary, lines of varied length) into dir.
func writeCorpus(tb testing.TB, dir string, seed uint64, n, size int) []string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	vocab := make([]string, 500)
	for i := range vocab {
		w := make([]byte, 2+rng.IntN(7))
		for j := range w {
			w[j] = byte('a' + rng.IntN(6) + j%3*rng.IntN(7))
		}
		vocab[i] = string(w)
	}
	var files []string
	for i := range n {
		var sb strings.Builder
		for sb.Len() < size {
			words := rng.IntN(12)
			for j := range words {
				if j > 0 {
					sb.WriteByte(' ')
				}
				// Skewed: low indexes are much more frequent.
				sb.WriteString(vocab[int(float64(len(vocab))*rng.Float64()*rng.Float64()*rng.Float64())])
			}
			sb.WriteByte('\n')
		}
		path := filepath.Join(dir, fmt.Sprintf("in-%02d.txt", i))
		require.NoError(tb, os.WriteFile(path, []byte(sb.String()), 0o644))
		files = append(files, path)
	}
	return files
}

// readOutputs returns the contents of a job's output files, concatenated.
func readOutputs(tb testing.TB, paths []string) string {
	tb.Helper()
	var sb strings.Builder
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(tb, err)
		fmt.Fprintf(&sb, "== %s\n%s", filepath.Base(p), b)
	}
	return sb.String()
}
