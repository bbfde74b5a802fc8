package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"iter"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/distsys-kit/distsys/mapreduce"
)

// wordCountJob is the job: Map emits (word, "1") for every word of its
// split, Combine adds up a map task's counts of a word before they are
// shuffled, and Reduce adds up the partial counts. A word is a run of
// letters, digits and underscores that does not start with a digit: in Go
// source, an identifier or a keyword ("0x1f" is a number, not a word).
//
// The workers run the same job: the coordinator tells them its name, and
// the inputs, number of reduce tasks and output directory it was given.
func wordCountJob(inputs []string, nReduce int, split int64, outDir string) mapreduce.Job {
	return mapreduce.Job{
		Name:      "wordcount",
		Inputs:    inputs,
		SplitSize: split,
		NReduce:   nReduce,
		OutputDir: outDir,
		Map: func(_, contents string, out mapreduce.Emitter) {
			for _, w := range strings.FieldsFunc(contents, notInWord) {
				if r, _ := utf8.DecodeRuneInString(w); !unicode.IsDigit(r) {
					out.Emit(w, "1")
				}
			}
		},
		Reduce: func(word string, counts iter.Seq[string], out mapreduce.Emitter) {
			out.Emit(word, strconv.FormatInt(sum(counts), 10))
		},
		Combine: func(_ string, counts iter.Seq[string]) string {
			return strconv.FormatInt(sum(counts), 10)
		},
	}
}

// notInWord reports whether r separates words.
func notInWord(r rune) bool {
	return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_'
}

// sum adds up counts. A count that is not a number is a bug in this
// program: the panic fails the task attempt, and says why.
func sum(counts iter.Seq[string]) int64 {
	var total int64
	for c := range counts {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			panic(fmt.Sprintf("wordcount: bad count %q", c))
		}
		total += n
	}
	return total
}

// faultHook returns the faults that -crash, -slow and -seed ask for, or
// nil for none, and tells d (if not nil) of every worker it kills. It
// decides from the seed and the attempt alone, so a seed replays the same
// faults on the same attempts (which worker runs an attempt is the
// scheduler's choice, and may change).
func faultHook(cfg config, d *display) mapreduce.FaultHook {
	if cfg.crash == 0 && cfg.slow == 0 {
		return nil
	}
	// The worker running a task's first attempt may die just before it
	// commits the attempt's output, or just after (then a map task's
	// output dies with it, and the task runs again although it had
	// finished). Two independent chances of q each add up to one of
	// 1-(1-q)² = cfg.crash.
	//
	// Later attempts are spared (Attempts: 1), so that every job ends. A
	// dead worker takes with it the output of every map task it finished,
	// which must run again; with 20% of attempts dying, a worker holding 5
	// map outputs would cause one more crash per crash, and the job would
	// rarely finish.
	q := 1 - math.Sqrt(1-cfg.crash)
	random := mapreduce.FaultRates{Seed: cfg.seed, CrashBeforeCommit: q, CrashAfterCommit: q, Attempts: 1}.Hook()
	return func(e mapreduce.FaultEvent) mapreduce.Fault {
		if cfg.slow > 0 && e.Attempt == 1 && e.Kind == mapreduce.MapTask && e.Index == 0 && e.Point == mapreduce.BeforeTask {
			return mapreduce.Fault{Delay: cfg.slow} // the straggler: a machine with a bad disk
		}
		f := random(e)
		if f.Crash && d != nil {
			d.died(e.Worker, e.Kind, e.Index, e.Point)
		}
		return f
	}
}

// describeFaults says in words what faultHook does.
func describeFaults(cfg config) string {
	var parts []string
	if cfg.crash > 0 {
		parts = append(parts, fmt.Sprintf("a worker dies in %.0f%% of first task attempts", 100*cfg.crash))
	}
	if cfg.slow > 0 {
		parts = append(parts, fmt.Sprintf("map task 0 starts %s late", cfg.slow))
	}
	if len(parts) == 0 {
		return ""
	}
	return fmt.Sprintf("Faults: %s (seed %d). A worker silent for %s is declared lost.", strings.Join(parts, "; "), cfg.seed, cfg.timeout)
}

// A wordFreq is a word and how often it occurs.
type wordFreq struct {
	word  string
	count int64
}

// topWords reads the job's output files, one "word\tcount" line per word,
// and returns the n most frequent words (equal counts in word order), and
// how many words and distinct words there are in all.
func topWords(outputs []string, n int) (top []wordFreq, words, distinct int64, err error) {
	var all []wordFreq
	for _, name := range outputs {
		f, err := os.Open(name)
		if err != nil {
			return nil, 0, 0, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			word, count, ok := strings.Cut(sc.Text(), "\t")
			c, err := strconv.ParseInt(count, 10, 64)
			if !ok || err != nil {
				f.Close()
				return nil, 0, 0, fmt.Errorf("%s: bad line %q", name, sc.Text())
			}
			all = append(all, wordFreq{word, c})
			words += c
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, 0, 0, fmt.Errorf("%s: %w", name, err)
		}
	}
	slices.SortFunc(all, func(a, b wordFreq) int {
		return cmp.Or(cmp.Compare(b.count, a.count), strings.Compare(a.word, b.word))
	})
	return all[:min(n, len(all))], words, int64(len(all)), nil
}

// checkOutputs runs job again with mapreduce.RunSequential, the oracle, in
// a directory of its own, and compares its output files with got's.
func checkOutputs(ctx context.Context, job mapreduce.Job, got mapreduce.Result, dir string) (time.Duration, error) {
	job.OutputDir = dir
	start := time.Now()
	want, err := mapreduce.RunSequential(ctx, job)
	if err != nil {
		return 0, fmt.Errorf("check: %w", err)
	}
	took := time.Since(start)
	for r := range want.Outputs {
		a, errA := os.ReadFile(got.Outputs[r])
		b, errB := os.ReadFile(want.Outputs[r])
		if err := cmp.Or(errA, errB); err != nil {
			return 0, fmt.Errorf("check: %w", err)
		}
		if !bytes.Equal(a, b) {
			return 0, fmt.Errorf("check failed: %s differs from RunSequential's %s", got.Outputs[r], want.Outputs[r])
		}
	}
	return took, nil
}
