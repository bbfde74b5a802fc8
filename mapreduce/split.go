package mapreduce

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// A split is the input of one map task: the lines of File that start in
// the byte range [Offset, Offset+Length). Length -1 means "to the end of
// the file", which the last split of every file uses, so that nothing is
// lost if the file grew after it was planned.
//
// The coordinator plans splits from file sizes alone; the worker that runs
// the task finds the line boundaries when it reads. A line that straddles
// two splits belongs to the one it starts in:
//
//	file:    |the cat sat\non the mat\nand the dog\n|
//	ranges:  |<---- split 0 --->|<----- split 1 ---->|
//	lines:   |the cat sat\non the mat\n|and the dog\n|
type split struct {
	File   string
	Offset int64
	Length int64
}

// planSplits cuts every input into splits of at most size bytes (size < 0:
// one split per file): as few as that allows, of equal sizes (to a byte),
// so that a file of 1.5 × size makes two tasks of 0.75 × size, not one of
// size and one of half: workers finish the map phase together.
func planSplits(inputs []string, size int64) ([]split, error) {
	var splits []split
	for _, path := range inputs {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("mapreduce: input: %w", err)
		}
		if fi.IsDir() {
			return nil, fmt.Errorf("%w: input %s is a directory", ErrInvalidJob, path)
		}
		n := fi.Size()
		if size < 0 || n <= size {
			splits = append(splits, split{File: path, Length: -1})
			continue
		}
		k := (n + size - 1) / size // splits in this file
		for i := range k {
			off, end := i*n/k, (i+1)*n/k
			length := end - off
			if i == k-1 {
				length = -1
			}
			splits = append(splits, split{File: path, Offset: off, Length: length})
		}
	}
	return splits, nil
}

// readSplit returns the whole lines of s. It reads them straight into the
// string it returns (a strings.Builder's buffer), so that a split costs
// one allocation of its size, not two, and through a 1 MiB buffer, so that
// a 16 MiB split takes 16 reads, not 512.
func readSplit(s split) (string, error) {
	f, err := os.Open(s.File)
	if err != nil {
		return "", fmt.Errorf("mapreduce: read input: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("mapreduce: read input: %w", err)
	}
	size := fi.Size()

	start := s.Offset
	if start > 0 {
		// The split starts after the line that holds byte Offset-1: if
		// that byte is a newline, at Offset itself.
		if start, err = lineEnd(f, start-1, size); err != nil {
			return "", err
		}
	}
	end := size
	if s.Length >= 0 && s.Offset+s.Length < size {
		// The split ends with the line that holds its last byte.
		if end, err = lineEnd(f, s.Offset+s.Length-1, size); err != nil {
			return "", err
		}
	}
	if start >= end {
		return "", nil
	}
	var sb strings.Builder
	sb.Grow(int(end - start))
	buf := make([]byte, min(end-start, 1<<20))
	if _, err := io.CopyBuffer(&sb, io.NewSectionReader(f, start, end-start), buf); err != nil {
		return "", fmt.Errorf("mapreduce: read input %s: %w", s.File, err)
	}
	return sb.String(), nil
}

// lineEnd returns the offset just past the first newline at or after pos,
// or size if there is none.
func lineEnd(r io.ReaderAt, pos, size int64) (int64, error) {
	var chunk [4096]byte
	for pos < size {
		n, err := r.ReadAt(chunk[:min(int64(len(chunk)), size-pos)], pos)
		if i := bytes.IndexByte(chunk[:n], '\n'); i >= 0 {
			return pos + int64(i) + 1, nil
		}
		pos += int64(n)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, fmt.Errorf("mapreduce: read input: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return size, nil
}

// countRecords returns the number of lines in contents.
func countRecords(contents string) int64 {
	n := int64(strings.Count(contents, "\n"))
	if len(contents) > 0 && contents[len(contents)-1] != '\n' {
		n++
	}
	return n
}
