package wal_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
)

// BenchmarkSaveWithFsync measures Save of a batch of 1 or 64 entries of
// 100 bytes on the real disk (the test's temporary directory), beside the
// floor it cannot beat: writing the same number of bytes to an os.File
// and fsyncing it. The difference is the record encoding, the checksum
// and the in-memory log.
//
//	go test -run=NONE -bench=SaveWithFsync -benchmem ./raft/wal/
func BenchmarkSaveWithFsync(b *testing.B) {
	for _, n := range []int{1, 64} {
		recordBytes := 9 + 36 + n*(13+100)
		b.Run(fmt.Sprintf("wal/entries=%d", n), func(b *testing.B) {
			s, err := wal.Open(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			es := make([]raft.Entry, n)
			for i := range es {
				es[i] = raft.Entry{Term: 1, Data: make([]byte, 100)}
			}
			b.SetBytes(int64(recordBytes))
			b.ReportAllocs()
			next := uint64(1)
			for b.Loop() {
				for i := range es {
					es[i].Index = next + uint64(i)
				}
				next += uint64(n)
				if err := s.Save(raft.HardState{Term: 1, Commit: next - 1}, es); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("os.File/entries=%d", n), func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			buf := make([]byte, recordBytes)
			b.SetBytes(int64(recordBytes))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
				if err := f.Sync(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
