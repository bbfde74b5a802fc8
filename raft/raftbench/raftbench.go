package raftbench

import (
	"context"
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// System is a replicated log as the workload sees it.
type System interface {
	// Commit proposes cmd and returns once it is committed, or ctx ends.
	// It is called from many goroutines at once. The first 8 bytes of cmd
	// are a number unique to the command (big-endian), for the System to
	// recognize it when it is applied; cmd is not the System's to keep
	// after Commit returns.
	Commit(ctx context.Context, cmd []byte) error
}

// commitTimeout bounds one Commit: far beyond any healthy commit, so
// reached only by a broken System.
const commitTimeout = 30 * time.Second

// Run commits one command untimed, for the System to settle (elect a
// leader), then b.N commands of cmdSize bytes (at least 8) from proposers
// goroutines, each waiting for its command to commit before it proposes
// the next, and reports commits per second and the 50th and 99th
// percentile of the time a commit took, in microseconds.
func Run(b *testing.B, s System, proposers, cmdSize int) {
	b.Helper()
	if cmdSize < 8 {
		b.Fatalf("raftbench: commands of %d bytes: at least 8 are needed", cmdSize)
	}
	var (
		next      atomic.Uint64
		mu        sync.Mutex // protects latencies and failure
		latencies []time.Duration
		failure   error
		wg        sync.WaitGroup
	)
	// A first command, not timed: the cluster elects its leader and
	// connects its peers before the clock starts.
	warmup, cancel := context.WithTimeout(context.Background(), commitTimeout)
	err := s.Commit(warmup, make([]byte, cmdSize)) // command number 0
	cancel()
	if err != nil {
		b.Fatalf("raftbench: first commit: %v", err)
	}
	b.ResetTimer()
	start := time.Now()
	for range proposers {
		wg.Go(func() {
			cmd := make([]byte, cmdSize)
			var mine []time.Duration
			for {
				n := next.Add(1)
				if n > uint64(b.N) {
					break
				}
				binary.BigEndian.PutUint64(cmd, n)
				ctx, cancel := context.WithTimeout(context.Background(), commitTimeout)
				t0 := time.Now()
				err := s.Commit(ctx, cmd)
				cancel()
				if err != nil {
					mu.Lock()
					failure = err
					mu.Unlock()
					break
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failure != nil {
		b.Fatalf("raftbench: commit: %v", failure)
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "commits/s")
	b.ReportMetric(micros(percentile(latencies, 0.50)), "p50-us")
	b.ReportMetric(micros(percentile(latencies, 0.99)), "p99-us")
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}

func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
