package extsort

import (
	"cmp"
	"fmt"
	"iter"
	"os"
	"slices"
	"strings"
)

const (
	// groupOverhead and valueOverhead are what a Buffer charges, beyond the
	// bytes of a key or value, for a key's group (the struct, its map
	// entry, its first value slots) and for a value (its string header and
	// slice slot).
	groupOverhead = 160
	valueOverhead = 24

	// firstValues is how many value slots a new group gets from the slab,
	// so that most keys' values need no allocation of their own.
	firstValues = 4

	// combineAt is how many values a key collects before the buffer
	// combines them, when there is a Combiner: a word count's "the" stays
	// one small group however often it is emitted.
	combineAt = 32
)

// Config describes a Buffer.
type Config struct {
	Parts     int              // partitions: the segments of every run file
	Partition func(string) int // the partition of a key, in [0, Parts)
	Combine   Combiner         // optional
	Limit     int              // bytes buffered before a spill
	Prefix    string           // spill files are Prefix.spill0, Prefix.spill1, ...
	Progress  Progress         // steps of the final merge; may be nil
}

// A Buffer collects a map task's output. It groups the values added by
// key in memory, combining them if there is a Combiner, and when the
// buffered bytes reach the limit it spills them: sorts the keys by
// (partition, key) and writes them as one run file with a segment per
// partition. Finish merges the spills into the task's output file. Memory
// stays near the limit, whatever the size of the input.
//
// A Buffer is not safe for concurrent use.
type Buffer struct {
	cfg Config

	groups map[string]*group
	order  []*group // the groups in insertion order
	slab   []group  // groups are allocated from here, many at a time
	vslab  []string // and their first values from here
	used   int      // bytes charged for the buffered groups

	cur    []string         // the values being combined
	seq    iter.Seq[string] // iterates over cur: made once, so a combine allocates nothing
	spills []RunFile
	stats  Stats
	err    error // the first error; sticky
}

// A group is a key and the values buffered for it.
type group struct {
	key    string
	part   int
	values []string
}

// NewBuffer returns an empty Buffer.
func NewBuffer(cfg Config) *Buffer {
	b := &Buffer{cfg: cfg, groups: make(map[string]*group)}
	b.seq = func(yield func(string) bool) {
		for _, v := range b.cur {
			if !yield(v) {
				return
			}
		}
	}
	return b
}

// Stats returns what the Buffer has done so far.
func (b *Buffer) Stats() Stats { return b.stats }

// Add buffers one pair. It fails if the partition function puts key out of
// range, or a spill fails; after an error, every Add returns it.
func (b *Buffer) Add(key, value string) error {
	if b.err != nil {
		return b.err
	}
	g := b.groups[key]
	if g == nil {
		p := b.cfg.Partition(key)
		if p < 0 || p >= b.cfg.Parts {
			return b.fail(fmt.Errorf("partition function returned %d for key %q, want [0, %d)", p, key, b.cfg.Parts))
		}
		// Keep a copy of the key: keys that point into the input would be
		// scattered over megabytes, and every lookup that compares one
		// would miss the cache (it made two workers barely faster than
		// one); copies sit together. It also lets the input go sooner.
		g = b.newGroup(strings.Clone(key), p)
	}
	g.values = append(g.values, value)
	b.used += len(value) + valueOverhead
	if b.cfg.Combine != nil && len(g.values) >= combineAt {
		if err := b.combineGroup(g); err != nil {
			return b.fail(err)
		}
	}
	if b.used >= b.cfg.Limit {
		if err := b.spill(); err != nil {
			return b.fail(err)
		}
	}
	return nil
}

func (b *Buffer) fail(err error) error {
	if b.err == nil {
		b.err = err
	}
	return b.err
}

func (b *Buffer) newGroup(key string, part int) *group {
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

// combineGroup replaces g's values by what the Combiner makes of them.
func (b *Buffer) combineGroup(g *group) error {
	b.cur = g.values
	v, err := b.stats.combine(b.cfg.Combine, g.key, b.seq, uint64(len(g.values)))
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
func (b *Buffer) spill() error {
	if len(b.order) == 0 {
		return nil
	}
	path := fmt.Sprintf("%s.spill%d", b.cfg.Prefix, len(b.spills))
	rf, err := b.writeRun(path)
	if err != nil {
		return err
	}
	b.spills = append(b.spills, rf)
	b.stats.Spills++
	clear(b.groups)
	clear(b.order)
	b.order = b.order[:0]
	b.slab, b.vslab = nil, nil
	b.used = 0
	return nil
}

// writeRun sorts the buffered groups and writes them to path.
func (b *Buffer) writeRun(path string) (RunFile, error) {
	slices.SortFunc(b.order, func(x, y *group) int {
		if c := cmp.Compare(x.part, y.part); c != 0 {
			return c
		}
		return strings.Compare(x.key, y.key)
	})
	f, err := os.Create(path)
	if err != nil {
		return RunFile{}, fmt.Errorf("mapreduce: spill: %w", err)
	}
	w := NewWriter(f)
	i := 0
	for p := range b.cfg.Parts {
		for ; i < len(b.order) && b.order[i].part == p; i++ {
			g := b.order[i]
			if b.cfg.Combine != nil && len(g.values) > 1 {
				if err := b.combineGroup(g); err != nil {
					f.Close()
					os.Remove(path)
					return RunFile{}, err
				}
			}
			w.Header(g.key, len(g.values))
			for _, v := range g.values {
				w.Value(v)
			}
		}
		w.EndSegment()
	}
	segs, err := w.Finish()
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("mapreduce: spill: %w", cerr)
	}
	if err != nil {
		os.Remove(path)
		return RunFile{}, err
	}
	return RunFile{Path: path, Segs: segs}, nil
}

// Finish writes the buffer's output to path (through a temporary name, so
// path is complete or absent) and deletes the spills. A buffer that got
// nothing has no file: its RunFile has an empty Path and empty segments.
func (b *Buffer) Finish(path string) (RunFile, error) {
	defer b.Discard()
	if b.err != nil {
		return RunFile{}, b.err
	}
	switch {
	case len(b.spills) == 0 && len(b.order) == 0:
		return RunFile{Segs: make([]Segment, b.cfg.Parts)}, nil
	case len(b.spills) == 0:
		// Everything fits in memory: one sorted run is the output.
		b.stats.Spills++
		rf, err := b.writeRun(path + ".tmp")
		if err != nil {
			return RunFile{}, err
		}
		if err := os.Rename(rf.Path, path); err != nil {
			os.Remove(rf.Path)
			return RunFile{}, fmt.Errorf("mapreduce: map output: %w", err)
		}
		rf.Path = path
		return rf, nil
	}
	if err := b.spill(); err != nil {
		return RunFile{}, err
	}
	runs, err := MergePasses(b.spills, b.cfg.Parts, b.cfg.Prefix, b.cfg.Combine, &b.stats, b.cfg.Progress)
	if err != nil {
		return RunFile{}, err
	}
	defer func() {
		for _, r := range runs {
			os.Remove(r.Path)
		}
	}()
	return MergeFiles(runs, b.cfg.Parts, path, b.cfg.Combine, &b.stats, b.cfg.Progress)
}

// Discard deletes the spills, for a task that gave up. Finish calls it.
func (b *Buffer) Discard() {
	for _, s := range b.spills {
		os.Remove(s.Path)
	}
	b.spills = nil
}
