package mapreduce

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os"
	"slices"
)

// A Result describes a finished job.
type Result struct {
	// Outputs are the output files, one per reduce task, in order:
	// OutputFile(job.OutputDir, r) for r in [0, NReduce).
	Outputs []string
	// Counters are the job's counters (see Counters).
	Counters Counters
}

// RunSequential runs job in the calling goroutine, the simplest possible
// way: it calls Map on every split in input order, keeps every emitted pair
// in memory, sorts each partition by key (stably, so that a key's values
// stay in emission order), and calls Reduce once per key. It ignores
// Combine. It is the oracle that the distributed runs are tested against,
// so it shares only the job's definition with them: the same splits, the
// same partitioning, the same output format. Its memory grows with the
// job's intermediate data; use it on small inputs.
//
// It returns an error matching ErrInvalidJob for a bad job, the first
// panic of a user function as an error, or ctx.Err() if ctx ends first
// (checked between splits and between keys).
func RunSequential(ctx context.Context, job Job) (Result, error) {
	job, err := job.withDefaults()
	if err != nil {
		return Result{}, err
	}
	splits, err := planSplits(job.Inputs, job.SplitSize)
	if err != nil {
		return Result{}, err
	}
	var c taskCounters
	out := &seqEmitter{c: &c, job: &job, parts: make([][]pair, job.NReduce)}
	for i, s := range splits {
		if err := ctx.Err(); err != nil {
			return Result{}, err
		}
		contents, err := readSplit(s)
		if err != nil {
			return Result{}, err
		}
		if len(contents) == 0 {
			continue
		}
		c.mapInBytes += int64(len(contents))
		c.mapInRecords += countRecords(contents)
		if err := protect("Map", func() { job.Map(s.File, contents, out) }); err != nil {
			return Result{}, jobFailed(MapTask, i, 1, err.Error())
		}
	}
	if err := prepareOutputDir(job.OutputDir); err != nil {
		return Result{}, err
	}
	res := Result{Counters: Counters{}}
	for r, pairs := range out.parts {
		path := OutputFile(job.OutputDir, r)
		if err := writeSequential(ctx, &job, r, pairs, path, &c); err != nil {
			return Result{}, err
		}
		res.Outputs = append(res.Outputs, path)
	}
	res.Counters = c.result()
	res.Counters[CounterMapTasks] = int64(len(splits))
	res.Counters[CounterReduceTasks] = int64(job.NReduce)
	return res, nil
}

// writeSequential sorts one partition's pairs and reduces them into path.
func writeSequential(ctx context.Context, job *Job, r int, pairs []pair, path string, c *taskCounters) error {
	slices.SortStableFunc(pairs, func(a, b pair) int { return cmp.Compare(a.key, b.key) })
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return fmt.Errorf("mapreduce: output: %w", err)
	}
	defer os.Remove(path + ".tmp") // fails harmlessly after the rename
	o := &reduceOut{w: bufio.NewWriter(f), c: c}
	for i := 0; i < len(pairs); {
		if err := ctx.Err(); err != nil {
			f.Close()
			return err
		}
		j := i + 1
		for j < len(pairs) && pairs[j].key == pairs[i].key {
			j++
		}
		group := pairs[i:j]
		values := func(yield func(string) bool) {
			for _, p := range group {
				if !yield(p.value) {
					return
				}
			}
		}
		c.reduceGroups++
		c.reduceInRecords += int64(j - i)
		if err := protect("Reduce", func() { job.Reduce(pairs[i].key, values, o) }); err != nil {
			f.Close()
			return jobFailed(ReduceTask, r, 1, err.Error())
		}
		i = j
	}
	err = o.w.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(path+".tmp", path)
	}
	if err != nil {
		return fmt.Errorf("mapreduce: output: %w", err)
	}
	return nil
}

// A pair is one intermediate key/value pair.
type pair struct{ key, value string }

// seqEmitter is RunSequential's map Emitter: it keeps every pair.
type seqEmitter struct {
	c     *taskCounters
	job   *Job
	parts [][]pair
}

func (e *seqEmitter) Emit(key, value string) {
	p := e.job.Partition(key, e.job.NReduce)
	if p < 0 || p >= e.job.NReduce {
		panic(fmt.Sprintf("partition function returned %d for key %q, want [0, %d)", p, key, e.job.NReduce))
	}
	e.parts[p] = append(e.parts[p], pair{key, value})
	e.c.mapOutRecords++
	e.c.mapOutBytes += int64(len(key) + len(value))
}

func (e *seqEmitter) Count(counter string, delta int64) { e.c.count(counter, delta) }
