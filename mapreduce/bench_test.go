package mapreduce

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"
)

// The word-count benchmark: a generated corpus (deterministic, made by the
// benchmark itself; 200 MB unless -corpus-mb says otherwise) counted, in
// the same run, by a plain sequential Go program (bufio.Scanner and a map),
// by a hand-tuned in-memory count on one and on two cores, and by this
// package with 1 and 2 in-process workers over loopback rpc: the job that
// emits every word (with a Combine), and the same job with in-mapper
// combining. Besides -benchmem's figures, each reports peak-heap-MB (the
// most heap in use, sampled every 10ms), allocs/kword (allocations per
// thousand words counted), cpu-ms/op (the CPU time the process used: on a
// machine shared with other work, the wall time of a run that was kept
// waiting for a core grows, its CPU time does not) and, for the jobs,
// extra-attempts (re-executions and backups). Run it with
//
//	go test -run '^$' -bench WordCount -benchtime 1x -count 1 -benchmem ./mapreduce/
//	go test -run '^$' -bench WordCount -benchtime 1x -benchmem ./mapreduce/ -corpus-mb=20   (quick)
//
// On a 2-core machine the 200 MB run takes under a minute, most of it
// writing the corpus.
var corpusMB = flag.Int("corpus-mb", 200, "size of the word-count benchmark's corpus, in MB")

func BenchmarkWordCount(b *testing.B) {
	c := corpus(b, *corpusMB)
	inputs, size := c.files, c.bytes
	b.Run("baseline=scanner", func(b *testing.B) {
		b.SetBytes(size)
		stop := watch(b, c.words)
		for b.Loop() {
			counts := map[string]int{}
			for _, path := range inputs {
				f, err := os.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				s := bufio.NewScanner(f)
				s.Split(bufio.ScanWords)
				for s.Scan() {
					counts[s.Text()]++
				}
				f.Close()
			}
		}
		stop()
	})
	for _, cores := range []int{1, 2} {
		b.Run(fmt.Sprintf("baseline=tuned-%dcore", cores), func(b *testing.B) {
			b.SetBytes(size)
			stop := watch(b, c.words)
			for b.Loop() {
				if _, err := tunedCount(inputs, cores); err != nil {
					b.Fatal(err)
				}
			}
			stop()
		})
	}
	jobs := []struct {
		name string
		job  func(inputs []string, out string) Job
	}{
		{"mapreduce", benchJob},                  // Emit per word, Combine
		{"mapreduce-inmapper", benchJobInMapper}, // Emit per distinct word and split
	}
	for _, j := range jobs {
		for _, workers := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/workers=%d", j.name, workers), func(b *testing.B) {
				b.SetBytes(size)
				stop := watch(b, c.words)
				for b.Loop() {
					res, err := Run(context.Background(), j.job(inputs, b.TempDir()), WithWorkers(workers), WithScratchDir(b.TempDir()))
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(res.Counters[CounterReexecutions]+res.Counters[CounterBackupTasks]), "extra-attempts")
				}
				stop()
			})
		}
	}
}

// BenchmarkMapTask measures one map task of the word count, alone on one
// core: read an 8 MB input, Map it, combine, sort and write the output.
func BenchmarkMapTask(b *testing.B) {
	inputs := corpus(b, 64).files // 8 files of 8 MB
	job, err := benchJob(inputs, b.TempDir()).withDefaults()
	if err != nil {
		b.Fatal(err)
	}
	scratch := b.TempDir()
	var keys int // carried from task to task, as a worker does
	env := taskEnv{job: &job, scratch: scratch, memLimit: DefaultMemoryLimit, keys: &keys}
	s := split{File: inputs[0], Length: -1}
	fi, err := os.Stat(inputs[0])
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fi.Size())
	cpu := watchCPU(b)
	for b.Loop() {
		rf, _, err := runMapTask(env, s, filepath.Join(scratch, "out"))
		if err != nil {
			b.Fatal(err)
		}
		os.Remove(rf.Path)
	}
	cpu()
}

// watch starts measuring a run over a corpus of words words; the
// returned function reports peak-heap-MB (see watchHeap), cpu-ms/op (see
// watchCPU) and allocs/kword, the allocations per thousand words counted.
func watch(b *testing.B, words int64) func() {
	peak, cpu := watchHeap(b), watchCPU(b)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	return func() {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		peak()
		cpu()
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N)/float64(words)*1000, "allocs/kword")
	}
}

// watchCPU reports, when the returned function is called, the CPU time
// the process used since watchCPU was called, per iteration, as the
// metric cpu-ms/op. On a machine shared with other work it is steadier
// than the wall time: two workers that are faster than one use about the
// same CPU time in less wall time.
func watchCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64(cpuTime()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}

// watchHeap samples the heap in use (the spans holding objects, as
// MemStats.HeapInuse) every 10ms until the returned function is called,
// which reports the peak as the metric peak-heap-MB. It reads
// runtime/metrics, which, unlike runtime.ReadMemStats, does not stop the
// world, so sampling does not slow what it measures.
func watchHeap(b *testing.B) func() {
	runtime.GC()
	stop, done := make(chan struct{}), make(chan struct{})
	var peak uint64
	go func() { // exits when stop is closed
		defer close(done)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		samples := []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/memory/classes/heap/unused:bytes"},
		}
		for {
			metrics.Read(samples)
			peak = max(peak, samples[0].Value.Uint64()+samples[1].Value.Uint64())
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
	}
}
