package mapreduce

import (
	"cmp"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
)

// DefaultMemoryLimit is how many bytes of map output a map task buffers
// before it sorts them and spills them to disk, unless WithMemoryLimit says
// otherwise: 32 MiB.
const DefaultMemoryLimit = 32 << 20

const (
	// groupOverhead and valueOverhead are what mapBuffer charges, beyond
	// the bytes of a key or value, for a key's group (the struct, its map
	// entry, its first value slots) and for a value (its string header and
	// slice slot).
	groupOverhead = 160
	valueOverhead = 24

	// firstValues is how many value slots a new group gets from the slab,
	// so that most keys' values need no allocation of their own.
	firstValues = 4

	// combineAt is how many values a key collects before the buffer
	// combines them, when the job has a Combine: a word count's "the"
	// stays one small group however often it is emitted.
	combineAt = 32

	// checkEvery is how often, in Emit calls, an Emitter checks whether
	// its task was cancelled.
	checkEvery = 1024
)

// A mapBuffer is the Emitter of a map task. It groups the emitted values by
// key in memory, combining them if the job has a Combine, and when the
// buffered bytes reach the limit it spills them: sorts the keys by
// (partition, key) and writes them as one run file with a segment per
// partition. At the end, finish merges the spills into the task's output
// file. Memory stays near the limit, whatever the size of the input.
//
//	Emit ─► groups (hash map) ──limit──► sort ─► spill 0, spill 1, ...
//	                                                   │ finish: merge
//	                                                   ▼
//	                                     output: segment 0 │ segment 1 │ ...
type mapBuffer struct {
	nReduce   int
	partition PartitionFunc
	combine   CombineFunc
	limit     int
	prefix    string // spill files are prefix.spill0, prefix.spill1, ...

	groups map[string]*group
	order  []*group // the groups in insertion order
	slab   []group  // groups are allocated from here, many at a time
	vslab  []string // and their first values from here
	used   int      // bytes charged for the buffered groups

	cur      []string         // the values being combined
	seq      iter.Seq[string] // iterates over cur: made once, so a combine allocates nothing
	spills   []runFile
	counters taskCounters
	progress *progressMeter
	done     <-chan struct{}
	err      error // the first error; Emit panics with it
}

// A group is a key and the values buffered for it.
type group struct {
	key    string
	part   int
	values []string
}

var _ Emitter = (*mapBuffer)(nil)

func newMapBuffer(job *Job, limit int, prefix string, progress *progressMeter, done <-chan struct{}) *mapBuffer {
	b := &mapBuffer{
		nReduce:   job.NReduce,
		partition: job.Partition,
		combine:   job.Combine,
		limit:     limit,
		prefix:    prefix,
		groups:    make(map[string]*group),
		progress:  progress,
		done:      done,
	}
	b.counters.progress = progress // the final merge's progress
	b.seq = func(yield func(string) bool) {
		for _, v := range b.cur {
			if !yield(v) {
				return
			}
		}
	}
	return b
}

// Emit buffers one pair. It panics with an abortPanic (which the task
// recovers) if the task was cancelled or a spill failed, so that a Map
// stops at once.
func (b *mapBuffer) Emit(key, value string) {
	if b.err != nil {
		panic(abortPanic{b.err})
	}
	b.counters.mapOutRecords++
	b.counters.mapOutBytes += int64(len(key) + len(value))
	g := b.groups[key]
	if g == nil {
		p := b.partition(key, b.nReduce)
		if p < 0 || p >= b.nReduce {
			b.abort(fmt.Errorf("partition function returned %d for key %q, want [0, %d)", p, key, b.nReduce))
		}
		// Keep a copy of the key: keys that point into the input would be
		// scattered over megabytes, and every lookup that compares one
		// would miss the cache (it made two workers barely faster than
		// one); copies sit together. It also lets the input go sooner.
		g = b.newGroup(strings.Clone(key), p)
	}
	g.values = append(g.values, value)
	b.used += len(value) + valueOverhead
	if b.combine != nil && len(g.values) >= combineAt {
		if err := b.combineGroup(g); err != nil {
			b.abort(err)
		}
	}
	if b.used >= b.limit {
		if err := b.spill(); err != nil {
			b.abort(err)
		}
	}
	b.progress.step()
	if b.counters.mapOutRecords%checkEvery == 0 {
		b.check()
	}
}

// Count adds to a user counter; it is also a sign of progress.
func (b *mapBuffer) Count(counter string, delta int64) {
	b.counters.count(counter, delta)
	b.progress.step()
	b.check()
}

// check aborts if the task was cancelled.
func (b *mapBuffer) check() {
	select {
	case <-b.done:
		b.abort(errCancelled)
	default:
	}
}

func (b *mapBuffer) abort(err error) {
	if b.err == nil {
		b.err = err
	}
	panic(abortPanic{b.err})
}

func (b *mapBuffer) newGroup(key string, part int) *group {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]group, 0, 256)
		b.vslab = make([]string, 256*firstValues)
	}
	// A full three-index slice: appending past firstValues reallocates,
	// rather than overwrite the next group's slots.
	values := b.vslab[:0:firstValues]
	b.vslab = b.vslab[firstValues:]
	b.slab = append(b.slab, group{key: key, part: part, values: values})
	g := &b.slab[len(b.slab)-1]
	b.groups[key] = g
	b.order = append(b.order, g)
	b.used += len(key) + groupOverhead
	return g
}

// combineGroup replaces g's values by what Combine makes of them.
func (b *mapBuffer) combineGroup(g *group) error {
	b.cur = g.values
	v, err := b.counters.combine(b.combine, g.key, b.seq, uint64(len(g.values)))
	b.cur = nil
	if err != nil {
		return err
	}
	for _, old := range g.values {
		b.used -= len(old) + valueOverhead
	}
	clear(g.values)
	g.values = append(g.values[:0], v)
	b.used += len(v) + valueOverhead
	return nil
}

// spill writes the buffered groups as a new run file and empties the
// buffer. It does nothing if the buffer is empty.
func (b *mapBuffer) spill() error {
	if len(b.order) == 0 {
		return nil
	}
	path := fmt.Sprintf("%s.spill%d", b.prefix, len(b.spills))
	rf, err := b.writeRun(path)
	if err != nil {
		return err
	}
	b.spills = append(b.spills, rf)
	b.counters.spills++
	clear(b.groups)
	clear(b.order)
	b.order = b.order[:0]
	b.slab, b.vslab = nil, nil
	b.used = 0
	return nil
}

// writeRun sorts the buffered groups and writes them to path.
func (b *mapBuffer) writeRun(path string) (runFile, error) {
	slices.SortFunc(b.order, func(x, y *group) int {
		if c := cmp.Compare(x.part, y.part); c != 0 {
			return c
		}
		return strings.Compare(x.key, y.key)
	})
	f, err := os.Create(path)
	if err != nil {
		return runFile{}, fmt.Errorf("mapreduce: spill: %w", err)
	}
	w := newRunWriter(f)
	i := 0
	for p := range b.nReduce {
		for ; i < len(b.order) && b.order[i].part == p; i++ {
			g := b.order[i]
			if b.combine != nil && len(g.values) > 1 {
				if err := b.combineGroup(g); err != nil {
					f.Close()
					os.Remove(path)
					return runFile{}, err
				}
			}
			w.header(g.key, len(g.values))
			for _, v := range g.values {
				w.value(v)
			}
		}
		w.endSegment()
	}
	segs, err := w.finish()
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("mapreduce: spill: %w", cerr)
	}
	if err != nil {
		os.Remove(path)
		return runFile{}, err
	}
	return runFile{Path: path, Segs: segs}, nil
}

// finish writes the task's output to path (through a temporary name, so
// path is complete or absent) and deletes the spills. A task that emitted
// nothing has no file: its runFile has an empty Path and empty segments.
func (b *mapBuffer) finish(path string) (runFile, error) {
	defer b.removeSpills()
	switch {
	case len(b.spills) == 0 && len(b.order) == 0:
		return runFile{Segs: make([]segment, b.nReduce)}, nil
	case len(b.spills) == 0:
		// Everything fits in memory: one sorted run is the output.
		b.counters.spills++
		rf, err := b.writeRun(path + ".tmp")
		if err != nil {
			return runFile{}, err
		}
		if err := os.Rename(rf.Path, path); err != nil {
			os.Remove(rf.Path)
			return runFile{}, fmt.Errorf("mapreduce: map output: %w", err)
		}
		rf.Path = path
		return rf, nil
	}
	if err := b.spill(); err != nil {
		return runFile{}, err
	}
	runs, err := mergePasses(b.spills, b.nReduce, b.prefix, b.combine, &b.counters)
	if err != nil {
		return runFile{}, err
	}
	defer func() {
		for _, r := range runs {
			os.Remove(r.Path)
		}
	}()
	return mergeFiles(runs, b.nReduce, path, b.combine, &b.counters)
}

func (b *mapBuffer) removeSpills() {
	for _, s := range b.spills {
		os.Remove(s.Path)
	}
	b.spills = nil
}
