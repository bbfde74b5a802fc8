//go:build linux

package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// namePrefix starts the name of every namespace this package makes:
// "dsns-PID-N-NAME", for process PID's Net number N.
const namePrefix = "dsns-"

// Subnet is the prefix of the nodes' addresses: the i-th node added to a
// Net is Subnet + i (10.99.0.1, 10.99.0.2, ...), on a /24.
const Subnet = "10.99.0."

// EmulationEnv names the environment variable that picks how loss and
// delay are made: "netem" or "userspace". By default, netem if the kernel
// has it.
const EmulationEnv = "DISTSYS_NETNS_EMULATION"

var (
	netSeq    atomic.Int64 // numbers the Nets of this process
	sweepOnce sync.Once

	availOnce sync.Once
	availErr  error
	hasNetem  bool
)

// Available reports why this machine cannot run the package's networks,
// or nil if it can: it needs root, the ip command, and the right to make a
// namespace (a container may forbid it). The answer is computed once.
func Available() error {
	availOnce.Do(func() { availErr = probe() })
	return availErr
}

func probe() error {
	if os.Geteuid() != 0 {
		return errors.New("netns: needs root, to make network namespaces (run the tests with sudo, or in CI as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("netns: needs the ip command (Debian: apt-get install iproute2)")
	}
	name := fmt.Sprintf("%s%d-0-probe", namePrefix, os.Getpid())
	if err := ip("netns", "add", name); err != nil {
		return fmt.Errorf("netns: cannot make a network namespace here: %w", err)
	}
	defer ip("netns", "del", name)
	_, err := run("ip", "netns", "exec", name, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms")
	hasNetem = err == nil
	return nil
}

// Net is a network of namespaces made for one test; see the package
// documentation. Its methods must be called from the test's goroutine.
type Net struct {
	tb     testing.TB
	prefix string
	hub    string
	netem  bool // loss and delay by netem; else nft and delay lines

	mu    sync.Mutex // protects nodes, procs, lossReady
	nodes []*Node
	procs []*Proc
	// lossReady says whether the hub's nftables table exists.
	lossReady bool
}

// New makes an empty network (the hub namespace and its bridge) that the
// end of the test removes, with every node and program in it. It skips
// the test, saying why, where namespaces cannot be made.
func New(tb testing.TB) *Net {
	tb.Helper()
	if err := Available(); err != nil {
		tb.Skip(err.Error())
	}
	sweepOnce.Do(func() {
		if err := Sweep(); err != nil {
			tb.Logf("netns: sweeping what earlier runs left: %v", err)
		}
	})
	n := &Net{tb: tb, prefix: fmt.Sprintf("%s%d-%d-", namePrefix, os.Getpid(), netSeq.Add(1))}
	switch os.Getenv(EmulationEnv) {
	case "netem":
		if !hasNetem {
			tb.Skipf("netns: %s=netem, but this kernel has no netem", EmulationEnv)
		}
		n.netem = true
	case "userspace":
	case "":
		n.netem = hasNetem
	default:
		tb.Fatalf("netns: %s=%q: want netem or userspace", EmulationEnv, os.Getenv(EmulationEnv))
	}
	n.hub = n.prefix + "hub"
	tb.Cleanup(n.close)
	n.must(ip("netns", "add", n.hub))
	n.must(ip("-n", n.hub, "link", "set", "lo", "up"))
	n.must(ip("-n", n.hub, "link", "add", "br0", "type", "bridge"))
	n.must(ip("-n", n.hub, "link", "set", "br0", "up"))
	return n
}

// Emulation says how the network makes loss and delay: "netem", or
// "userspace" (nftables loss, delay lines in this process).
func (n *Net) Emulation() string {
	if n.netem {
		return "netem"
	}
	return "userspace"
}

func (n *Net) must(err error) {
	n.tb.Helper()
	if err != nil {
		n.tb.Fatal(err)
	}
}

// close kills every program, stops the delay lines and removes every
// namespace, reporting what it could not do.
func (n *Net) close() {
	n.mu.Lock()
	procs, nodes := n.procs, n.nodes
	n.mu.Unlock()
	for _, p := range procs {
		p.kill()
	}
	for _, nd := range nodes {
		if nd.delay != nil {
			nd.delay.Close()
		}
		if err := removeNamespace(nd.NS); err != nil {
			n.tb.Error(err)
		}
	}
	if err := removeNamespace(n.hub); err != nil {
		n.tb.Error(err)
	}
}

// removeNamespace kills what still runs in namespace name and deletes it,
// if it exists.
func removeNamespace(name string) error {
	if _, err := os.Stat(filepath.Join(netnsDir, name)); errors.Is(err, os.ErrNotExist) {
		return nil // never made: AddNode failed before
	}
	out, err := run("ip", "netns", "pids", name)
	if err != nil {
		return err
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return ip("netns", "del", name)
}

var staleName = regexp.MustCompile(`^` + namePrefix + `(\d+)-\d+-`)

// Sweep removes the namespaces, and kills the programs in them, that
// earlier runs of this package left behind: those whose process is gone
// (a test binary that crashed or was killed before its Cleanup ran). New
// calls it once per process.
func Sweep() error {
	entries, err := os.ReadDir(netnsDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("netns: %w", err)
	}
	var errs []error
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if pid, _ := strconv.Atoi(m[1]); alive(pid) {
			continue
		}
		errs = append(errs, removeNamespace(e.Name()))
	}
	return errors.Join(errs...)
}

// alive reports whether a process pid exists. (A pid reused since by
// another process counts as alive: its namespaces wait for the next sweep
// after it ends.)
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
