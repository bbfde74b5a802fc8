//go:build !unix

package mapreduce

import "time"

// cpuTime is not measured here: the benchmarks report zero.
func cpuTime() time.Duration { return 0 }
