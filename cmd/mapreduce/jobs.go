package main

import (
	"fmt"
	"iter"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/distsys-kit/distsys/mapreduce"
)

// defaultOut is where a job's output goes unless -out says otherwise.
const defaultOut = "mr-out"

// jobs returns the jobs this program can run: the word count and the
// inverted index, or with a grep pattern only the grep for it. A grep's
// name carries its pattern, so a worker started with another pattern does
// not find the coordinator's job, and says so, rather than grep for the
// wrong thing.
func jobs(grepPattern string) []mapreduce.Job {
	if grepPattern != "" {
		return []mapreduce.Job{grepJob(grepPattern)}
	}
	return []mapreduce.Job{wordCountJob(), indexJob()}
}

// wordCountJob counts words: Map emits (word, "1") for every word of its
// split, lower-cased; Combine adds up a map task's counts of a word before
// they are shuffled; Reduce adds up the partial counts. A word is a run of
// letters.
func wordCountJob() mapreduce.Job {
	return mapreduce.Job{
		Name:      "wordcount",
		OutputDir: defaultOut,
		Map: func(_, contents string, out mapreduce.Emitter) {
			for _, w := range strings.FieldsFunc(contents, notLetter) {
				out.Emit(strings.ToLower(w), "1")
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

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// sum adds up counts. A count that is not a number is a bug in this
// program: the panic fails the task attempt, and says why.
func sum(counts iter.Seq[string]) int64 {
	var n int64
	for c := range counts {
		k, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			panic(fmt.Sprintf("wordcount: count %q is not a number", c))
		}
		n += k
	}
	return n
}

// indexJob is an inverted index: for every word, how many input files
// hold it and which ("word 2 a.txt,b.txt"). Files are named by their base
// name.
func indexJob() mapreduce.Job {
	return mapreduce.Job{
		Name:      "index",
		OutputDir: defaultOut,
		Map: func(name, contents string, out mapreduce.Emitter) {
			seen := map[string]bool{}
			for _, w := range strings.FieldsFunc(contents, notLetter) {
				if !seen[w] {
					seen[w] = true
					out.Emit(w, filepath.Base(name))
				}
			}
		},
		Reduce: func(word string, docs iter.Seq[string], out mapreduce.Emitter) {
			list := slices.Compact(slices.Sorted(docs))
			out.Emit(word, fmt.Sprintf("%d %s", len(list), strings.Join(list, ",")))
		},
	}
}

// grepJob finds the lines that contain pattern: for every input file, its
// matching lines in the order they appear, one output line each ("file
// line"). Map tasks of one file's splits emit their lines under the file's
// name with the line's offset, so Reduce can sort them back in order.
func grepJob(pattern string) mapreduce.Job {
	return mapreduce.Job{
		Name:      "grep " + strconv.Quote(pattern),
		OutputDir: defaultOut,
		SplitSize: -1, // one task per file, so offsets are the file's own
		Map: func(name, contents string, out mapreduce.Emitter) {
			offset := 0
			for line := range strings.Lines(contents) {
				if strings.Contains(line, pattern) {
					out.Emit(filepath.Base(name), fmt.Sprintf("%012d %s", offset, strings.TrimSuffix(line, "\n")))
					out.Count("matching lines", 1)
				}
				offset += len(line)
			}
		},
		Reduce: func(file string, lines iter.Seq[string], out mapreduce.Emitter) {
			for _, l := range slices.Sorted(lines) {
				_, text, _ := strings.Cut(l, " ")
				out.Emit(file, text)
			}
		},
	}
}
