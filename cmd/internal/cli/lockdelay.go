package cli

import (
	"flag"
	"time"

	"github.com/distsys-kit/distsys/lock"
)

// LockDelayFlag registers -lock-delay, the lock-delay of a lock server, on
// fs and returns where its value goes. Read it with LockDelay.
//
// lock.Config and lock.RaftConfig read a zero LockDelay as "the default"
// and a negative one as "none"; someone who types -lock-delay 0 means
// none, so the flag reads 0 as none and defaults to the default.
func LockDelayFlag(fs *flag.FlagSet, usage string) *time.Duration {
	return fs.Duration("lock-delay", lock.DefaultLockDelay, usage+"; 0 for none")
}

// LockDelay returns the lock.Config LockDelay for the flag's value d.
func LockDelay(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
