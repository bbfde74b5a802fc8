package mapreduce_test

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/distsys-kit/distsys/mapreduce"
)

// sum adds up a stream of counts.
func sum(counts iter.Seq[string]) int {
	n := 0
	for c := range counts {
		k, _ := strconv.Atoi(c)
		n += k
	}
	return n
}

// A word count, run by two workers connected to a coordinator over
// loopback TCP, checked against the sequential oracle.
func Example() {
	dir, _ := os.MkdirTemp("", "wordcount")
	defer os.RemoveAll(dir)
	var inputs []string
	for i, text := range []string{
		"the quick brown fox\njumps over the lazy dog\n",
		"the dog barks\nthe fox runs\n",
	} {
		path := filepath.Join(dir, fmt.Sprintf("in-%d.txt", i))
		os.WriteFile(path, []byte(text), 0o644)
		inputs = append(inputs, path)
	}

	job := mapreduce.Job{
		Name:      "wordcount",
		Inputs:    inputs,
		NReduce:   1,
		OutputDir: filepath.Join(dir, "out"),
		Map: func(name, contents string, out mapreduce.Emitter) {
			for _, w := range strings.Fields(contents) {
				out.Emit(w, "1")
			}
		},
		Reduce: func(word string, counts iter.Seq[string], out mapreduce.Emitter) {
			out.Emit(word, strconv.Itoa(sum(counts)))
		},
		Combine: func(word string, counts iter.Seq[string]) string {
			return strconv.Itoa(sum(counts))
		},
	}
	res, err := mapreduce.Run(context.Background(), job, mapreduce.WithWorkers(2))
	if err != nil {
		fmt.Println(err)
		return
	}
	got, _ := os.ReadFile(res.Outputs[0])
	fmt.Print(string(got))
	fmt.Println("words emitted:", res.Counters[mapreduce.CounterMapOutputRecords])

	job.OutputDir = filepath.Join(dir, "oracle")
	want, _ := mapreduce.RunSequential(context.Background(), job)
	oracle, _ := os.ReadFile(want.Outputs[0])
	fmt.Println("same as sequential:", string(got) == string(oracle))
	// Output:
	// barks	1
	// brown	1
	// dog	2
	// fox	2
	// jumps	1
	// lazy	1
	// over	1
	// quick	1
	// runs	1
	// the	4
	// words emitted: 15
	// same as sequential: true
}
