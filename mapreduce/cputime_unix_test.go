//go:build unix

package mapreduce

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time this process has used, user and system:
// unlike the wall time, it does not grow when other programs share the
// machine's cores.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
