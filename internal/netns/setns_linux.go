//go:build linux

package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// netnsDir is where ip netns keeps its named namespaces.
const netnsDir = "/run/netns"

// errNoSetns is what inNamespace returns where this package does not know
// the number of the setns system call (the syscall package lacks it on
// amd64).
var errNoSetns = errors.New("netns: setns is not known on " + runtime.GOARCH + " (amd64 and arm64 are)")

// inNamespace runs f on a thread that has joined the named network
// namespace, so that the sockets f creates belong to it; they stay there
// when the thread leaves, and may be used from any goroutine. f must not
// start goroutines that create sockets: they would run on other threads.
//
// The thread is locked to a goroutine of its own for the duration. If it
// cannot return to the process's namespace, it is not unlocked, and the
// runtime ends it with the goroutine, so that no other goroutine ever runs
// in the wrong namespace.
func inNamespace(name string, f func() error) error {
	if sysSetns == 0 {
		return errNoSetns
	}
	errc := make(chan error, 1)
	go func() { // exits when f has run
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join(netnsDir, name))
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: %w", err)
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("netns: enter %s: %w", name, err)
			return
		}
		ferr := f()
		if err := setns(orig); err != nil {
			errc <- fmt.Errorf("netns: leave %s: %w", name, err) // the thread stays locked, and dies
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

func setns(f *os.File) error {
	_, _, errno := syscall.Syscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0)
	if errno != 0 {
		return errno
	}
	return nil
}
