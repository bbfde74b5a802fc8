package extsort

import (
	"bytes"
	"container/heap"
	"fmt"
	"iter"
	"os"
)

// MergeFactor is the most runs merged at once. Each open run holds a
// readBufferSize buffer, so a merge holds at most 64 × 32 KiB = 2 MiB of
// buffers; more runs than that are first merged in passes (see
// MergePasses), like an external sort.
const MergeFactor = 64

// A RunFile is a run file on disk and its segments, one per partition.
type RunFile struct {
	Path string
	Segs []Segment
}

// Merge merges sorted runs: it calls each once per distinct key, in key
// order, with the number of values and an iterator over them. The values of
// one key come run by run, in the order of runs, so the merge is stable: if
// the runs are in input order, so are the values. each must not keep the
// iterator after it returns; values it leaves unread are skipped.
//
// Every key and value read is a step of progress (which may be nil): a long
// merge, or a Reduce going through a key with millions of values, is
// progress, not a stall.
func Merge(runs []*Reader, progress Progress, each func(key string, n uint64, values iter.Seq[string]) error) error {
	h := make(cursorHeap, 0, len(runs))
	for i, r := range runs {
		if r.NextGroup() {
			h = append(h, &cursor{r: r, order: i})
		} else if r.err != nil {
			return r.err
		}
	}
	heap.Init(&h)

	var same []*cursor // the runs whose current group has the smallest key
	values := func(yield func(string) bool) {
		for _, c := range same {
			for v, ok := c.r.NextValue(); ok; v, ok = c.r.NextValue() {
				step(progress)
				if !yield(v) {
					return
				}
			}
		}
	}
	for len(h) > 0 {
		step(progress)
		same = same[:0]
		key := string(h[0].r.key) // the one string made for this key
		var n uint64
		for len(h) > 0 && string(h[0].r.key) == key {
			c := heap.Pop(&h).(*cursor)
			n += c.r.values
			same = append(same, c)
		}
		if err := each(key, n, values); err != nil {
			return err
		}
		for _, c := range same {
			if c.r.NextGroup() {
				heap.Push(&h, c)
			} else if c.r.err != nil {
				return c.r.err
			}
		}
	}
	return nil
}

// A cursor is a run in a merge; order breaks ties between equal keys.
type cursor struct {
	r     *Reader
	order int
}

// cursorHeap is a min-heap of cursors by (key, order).
type cursorHeap []*cursor

func (h cursorHeap) Len() int { return len(h) }
func (h cursorHeap) Less(i, j int) bool {
	if c := bytes.Compare(h[i].r.key, h[j].r.key); c != 0 {
		return c < 0
	}
	return h[i].order < h[j].order
}
func (h cursorHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *cursorHeap) Push(x any)   { *h = append(*h, x.(*cursor)) }
func (h *cursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// MergeFiles merges the run files in into one run file at path, partition
// by partition, applying combine (if not nil) to each key's values and
// counting its calls in st. It
// writes to a temporary name and renames, so path is complete or absent.
// Every file in has nPart segments.
func MergeFiles(in []RunFile, nPart int, path string, combine Combiner, st *Stats, progress Progress) (RunFile, error) {
	files := make([]*os.File, len(in))
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	for i, rf := range in {
		f, err := os.Open(rf.Path)
		if err != nil {
			return RunFile{}, fmt.Errorf("mapreduce: merge: %w", err)
		}
		files[i] = f
	}
	out, err := os.Create(path + ".tmp")
	if err != nil {
		return RunFile{}, fmt.Errorf("mapreduce: merge: %w", err)
	}
	defer os.Remove(path + ".tmp") // fails harmlessly after the rename
	w := NewWriter(out)
	runs := make([]*Reader, len(in))
	for p := range nPart {
		for i, rf := range in {
			runs[i] = NewReader(files[i], rf.Segs[p])
		}
		err := Merge(runs, progress, func(key string, n uint64, values iter.Seq[string]) error {
			if combine == nil {
				w.Header(key, int(n))
				for v := range values {
					w.Value(v)
				}
				return nil
			}
			v, err := st.combine(combine, key, values, n)
			if err != nil {
				return err
			}
			w.Header(key, 1)
			w.Value(v)
			return nil
		})
		if err != nil {
			out.Close()
			return RunFile{}, err
		}
		w.EndSegment()
	}
	segs, err := w.Finish()
	if cerr := out.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("mapreduce: merge: %w", cerr)
	}
	if err != nil {
		return RunFile{}, err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return RunFile{}, fmt.Errorf("mapreduce: merge: %w", err)
	}
	return RunFile{Path: path, Segs: segs}, nil
}

// MergePasses merges runs, MergeFactor at a time, until at most
// MergeFactor are left, and returns them in the same order (so the final
// merge stays stable). It names the files it makes prefix.pass<i>.<j> and
// deletes the files of earlier passes once merged (the caller's own inputs
// are the caller's to delete).
func MergePasses(in []RunFile, nPart int, prefix string, combine Combiner, st *Stats, progress Progress) ([]RunFile, error) {
	for pass := 0; len(in) > MergeFactor; pass++ {
		var out []RunFile
		for j := 0; j < len(in); j += MergeFactor {
			group := in[j:min(j+MergeFactor, len(in))]
			rf, err := MergeFiles(group, nPart, fmt.Sprintf("%s.pass%d.%d", prefix, pass, j/MergeFactor), combine, st, progress)
			if err != nil {
				return nil, err
			}
			if pass > 0 {
				for _, g := range group {
					os.Remove(g.Path)
				}
			}
			out = append(out, rf)
		}
		in = out
	}
	return in, nil
}
