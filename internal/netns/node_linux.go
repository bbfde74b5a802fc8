//go:build linux

package netns

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Node is one machine of a Net: a namespace with one interface, eth0.
type Node struct {
	Name string // as given to AddNode
	NS   string // the namespace's name, for ip netns exec
	IP   string // its address, Subnet + its number

	n     *Net
	veth  string        // the hub's end of its veth pair
	port  string        // its port on the bridge: veth, or the delay line's far end
	delay *delayLine    // nil without delay, or with netem
	d     time.Duration // its delay, one way, per direction
}

// A NodeOption configures a node (AddNode).
type NodeOption func(*Node)

// WithDelay delays every frame to and from the node by d, each way: a
// ping between two nodes with delays d1 and d2 takes 2(d1+d2) more.
func WithDelay(d time.Duration) NodeOption { return func(nd *Node) { nd.d = d } }

var nodeName = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

// AddNode makes a node called name (lower-case letters and digits, at most
// 16) and plugs it into the bridge. It fails the test if it cannot.
func (n *Net) AddNode(name string, opts ...NodeOption) *Node {
	n.tb.Helper()
	if !nodeName.MatchString(name) {
		n.tb.Fatalf("netns: node name %q: want lower-case letters and digits, a letter first, at most 16", name)
	}
	n.mu.Lock()
	i := len(n.nodes) + 1
	nd := &Node{Name: name, NS: n.prefix + name, IP: Subnet + strconv.Itoa(i), n: n, veth: fmt.Sprintf("n%d", i)}
	for _, opt := range opts {
		opt(nd)
	}
	n.nodes = append(n.nodes, nd) // before it exists: close removes what was made
	n.mu.Unlock()
	if i > 250 {
		n.tb.Fatal("netns: at most 250 nodes")
	}

	n.must(ip("netns", "add", nd.NS))
	n.must(ip("-n", nd.NS, "link", "set", "lo", "up"))
	n.must(ip("-n", n.hub, "link", "add", nd.veth, "type", "veth", "peer", "name", "eth0", "netns", nd.NS))
	n.must(ip("-n", nd.NS, "addr", "add", nd.IP+"/24", "dev", "eth0"))
	n.must(ip("-n", nd.NS, "link", "set", "eth0", "up"))
	nd.port = nd.veth
	if nd.d > 0 && !n.netem {
		// The node's veth goes to the delay line, whose other side is a
		// second veth pair: d<i> for the line, b<i> on the bridge.
		line, port := fmt.Sprintf("d%d", i), fmt.Sprintf("b%d", i)
		n.must(ip("-n", n.hub, "link", "add", line, "type", "veth", "peer", "name", port))
		for _, ifc := range []string{nd.veth, line} {
			n.must(ip("-n", n.hub, "link", "set", ifc, "up"))
		}
		nd.port = port
		dl, err := newDelayLine(n.hub, nd.veth, line, nd.d)
		n.must(err)
		nd.delay = dl
	}
	n.must(ip("-n", n.hub, "link", "set", nd.port, "master", "br0", "up"))
	if nd.d > 0 && n.netem {
		n.must(nd.netem(0))
	}
	return nd
}

// Addr returns the node's address with port, "10.99.0.N:port".
func (nd *Node) Addr(port int) string { return net.JoinHostPort(nd.IP, strconv.Itoa(port)) }

// Cut takes the node's link down, as when its cable is pulled: frames to
// and from it are lost until Heal. Connections are not reset: their peers
// find out by timeouts.
func (nd *Node) Cut() error { return ip("-n", nd.n.hub, "link", "set", nd.port, "down") }

// Heal brings the node's link back up.
func (nd *Node) Heal() error { return ip("-n", nd.n.hub, "link", "set", nd.port, "up") }

// SetLoss makes the node's link lose each frame with probability p, in
// each direction (0 ends the loss; the resolution is 0.01%). It needs netem
// or the nft command; without either, its error matches
// errors.ErrUnsupported.
func (nd *Node) SetLoss(p float64) error {
	if p < 0 || p > 1 {
		return fmt.Errorf("netns: loss %v: want a probability from 0 to 1", p)
	}
	if nd.n.netem {
		return nd.netem(p)
	}
	return nd.nftLoss(p)
}

// netem sets netem's delay and loss on both ends of the node's veth pair.
func (nd *Node) netem(loss float64) error {
	args := []string{"root", "netem", "delay", fmt.Sprintf("%dus", nd.d.Microseconds()),
		"loss", strconv.FormatFloat(100*loss, 'f', 2, 64) + "%"}
	if err := run1("tc", append([]string{"-n", nd.n.hub, "qdisc", "replace", "dev", nd.veth}, args...)...); err != nil {
		return err
	}
	return run1("tc", append([]string{"-n", nd.NS, "qdisc", "replace", "dev", "eth0"}, args...)...)
}

// nftLoss drops frames crossing the bridge to and from the node at random:
// a chain of the node's own, jumped to from the bridge's forward hook for
// frames in or out of its port, holds one numgen rule.
func (nd *Node) nftLoss(p float64) error {
	if _, err := exec.LookPath("nft"); err != nil {
		return fmt.Errorf("netns: loss without netem needs the nft command (Debian: apt-get install nftables): %w", errors.ErrUnsupported)
	}
	chain := "loss_" + nd.port
	var script strings.Builder
	nd.n.mu.Lock()
	if !nd.n.lossReady {
		script.WriteString("add table bridge dsns\n")
		script.WriteString("add chain bridge dsns forward { type filter hook forward priority 0; policy accept; }\n")
		nd.n.lossReady = true
	}
	nd.n.mu.Unlock()
	fmt.Fprintf(&script, "add chain bridge dsns %s\n", chain)
	fmt.Fprintf(&script, "flush chain bridge dsns %s\n", chain)
	if n := int(p*10000 + 0.5); n > 0 {
		fmt.Fprintf(&script, "add rule bridge dsns %s numgen random mod 10000 < %d drop\n", chain, n)
	}
	cmd := exec.Command("ip", "netns", "exec", nd.n.hub, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("netns: nft: %w: %s", err, strings.TrimSpace(string(out)))
	}
	// The jumps are added once per node, after its chain exists.
	return nd.jumpOnce(chain)
}

func (nd *Node) jumpOnce(chain string) error {
	out, err := run("ip", "netns", "exec", nd.n.hub, "nft", "list", "chain", "bridge", "dsns", "forward")
	if err != nil {
		return err
	}
	if strings.Contains(string(out), "jump "+chain) {
		return nil
	}
	for _, dir := range []string{"iifname", "oifname"} {
		if _, err := run("ip", "netns", "exec", nd.n.hub, "nft", "add", "rule", "bridge", "dsns", "forward", dir, nd.port, "jump", chain); err != nil {
			return err
		}
	}
	return nil
}

func run1(name string, args ...string) error {
	_, err := run(name, args...)
	return err
}

// Command returns a command that runs name with args inside the node's
// namespace (ip netns exec). Set its Stdout and Stderr, then Start it with
// Node.Start. The program and what it starts run in a process group of
// their own, and get SIGKILL if the test process dies.
func (nd *Node) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", nd.NS, name}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Start starts cmd (from Command) and returns its process, which the end
// of the test kills if it still runs. It fails the test if cmd cannot
// start.
func (nd *Node) Start(cmd *exec.Cmd) *Proc {
	nd.n.tb.Helper()
	nd.n.must(cmd.Start())
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() { // exits when the process has exited
		p.err = cmd.Wait()
		close(p.done)
	}()
	nd.n.mu.Lock()
	nd.n.procs = append(nd.n.procs, p)
	nd.n.mu.Unlock()
	return p
}

// Proc is a program running in a node.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	err  error         // cmd.Wait's, set before done is closed
}

// Done returns a channel closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit and returns how it ended, as
// exec.Cmd.Wait does.
func (p *Proc) Wait() error {
	<-p.done
	return p.err
}

// Pid returns the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Signal sends sig to the process and everything it started.
func (p *Proc) Signal(sig syscall.Signal) error {
	return syscall.Kill(-p.cmd.Process.Pid, sig)
}

// kill sends SIGKILL to the process group and waits for the process.
func (p *Proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.Signal(syscall.SIGKILL)
	<-p.done
}

// Kill kills the process at once, as a crash or a power cut does, and
// waits for it.
func (p *Proc) Kill() { p.kill() }

// Do runs f on a thread inside the node's namespace: the sockets f opens
// (net.Listen, net.Dial) belong to the node, and stay usable from any
// goroutine after f returns. f must not open sockets in goroutines of its
// own, which would run elsewhere.
func (nd *Node) Do(f func() error) error { return inNamespace(nd.NS, f) }
