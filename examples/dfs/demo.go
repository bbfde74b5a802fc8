package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/afs"
	"github.com/distsys-kit/distsys/examples/demo"
)

// report is what the run counted: the summary prints it, and the tests
// check it.
type report struct {
	alice, bob           afs.ClientStats
	aliceStale, bobStale int // opens that read an old version
	server               afs.ServerStats
	failed               int   // calls that got no answer in time, or failed otherwise
	messages, lost       int64 // what netsim carried, and lost
	gaveUp               bool  // the network lost everything, and the demo stopped early
}

// dfs runs the demo: alice opens the file again and again while bob edits
// it, and the narration says where each open was served from and whether
// what alice read was the file as the server has it.
func dfs(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (report, error) {
	s, err := startSystem(ctx, cfg, tr)
	defer s.close()
	if err != nil {
		return report{}, err
	}
	n := &narrator{out: out, s: s, timeout: cfg.timeout, stale: map[*afs.Client]int{}, breaks: map[*afs.Client]int{}}

	fmt.Fprintf(out, "dfs: a file server and two clients that cache whole files, on a simulated network (seed %d); %v.\n", cfg.faults.Seed, cfg.faults)
	if cfg.nocallbacks {
		fmt.Fprintln(out, "Callbacks are off (-nocallbacks): a client uses its cached copy of a file for ever.")
	} else {
		fmt.Fprintln(out, "The server promises a callback to every client that fetches a file, and breaks the promise")
		fmt.Fprintln(out, "(calls the client back) when the file changes, before the write that changed it returns.")
	}
	f := s.server.File(fileName)
	fmt.Fprintf(out, "The server has %s, version %d: %q.\n", fileName, f.Version, f.Data)

	fmt.Fprintf(out, "\n1. alice opens %s %s.\n", fileName, times(cfg.opens))
	for range cfg.opens {
		n.open(ctx, s.alice, "alice")
		if n.hopeless() {
			return report{failed: n.failed, gaveUp: true}, n.giveUp(ctx)
		}
	}
	for r := range cfg.rounds {
		if ctx.Err() != nil {
			break // interrupted
		}
		draft := fmt.Sprintf("draft %d", r+2)
		fmt.Fprintf(out, "\n%d. bob opens %s, writes %q and closes it; then alice opens it %s.\n", r+2, fileName, draft, times(cfg.opens))
		n.open(ctx, s.bob, "bob")
		n.write(ctx, s.bob, "bob", draft)
		for range cfg.opens {
			n.open(ctx, s.alice, "alice")
		}
		if n.hopeless() {
			return report{failed: n.failed, gaveUp: true}, n.giveUp(ctx)
		}
	}
	if err := ctx.Err(); err != nil {
		return report{}, err // interrupted: the narration above is cut short
	}
	// Late copies of duplicated messages may still be on their way: let
	// them land, so that the counts do not depend on when the demo looks.
	if err := demo.Settle(ctx, s.net, "server", "alice", "bob"); err != nil {
		return report{}, err
	}
	return n.summary(cfg), nil
}

// hopeless reports whether the network is losing everything: every call
// so far has failed, at least two, and not one message was delivered.
func (n *narrator) hopeless() bool {
	return n.answered == 0 && n.failed >= 2 && n.s.delivered() == 0
}

// giveUp says that the network lets nothing through, and stops the demo.
func (n *narrator) giveUp(ctx context.Context) error {
	fmt.Fprintf(n.out, "\nNot one message has been delivered (%d calls tried, each waiting %v): the network is losing everything. Stopping.\n",
		n.failed, n.timeout)
	return ctx.Err()
}

// times says "once" or "n times".
func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// narrator makes the clients' calls and says what they see.
type narrator struct {
	out      io.Writer
	s        *system
	timeout  time.Duration
	stale    map[*afs.Client]int // reads of an old version, per client
	breaks   map[*afs.Client]int // callbacks received, per client, as of its last open
	failed   int                 // calls that got no answer in time, or failed otherwise
	answered int                 // calls that got an answer
}

// open has c open the file, and says where it came from and whether it is
// the server's current version.
func (n *narrator) open(ctx context.Context, c *afs.Client, who string) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	f, hit, err := c.Open(ctx, fileName)
	if err != nil {
		fmt.Fprintf(n.out, "   %-5s open: %s\n", who, n.failure(err))
		return
	}
	from := "fetched from the server"
	if hit {
		from = "from the cache, no message"
	} else {
		n.answered++
	}
	line := fmt.Sprintf("   %-5s open: %-27s version %d %q", who, from, f.Version, f.Data)
	if now := n.s.server.File(fileName); now.Version != f.Version {
		n.stale[c]++
		line += fmt.Sprintf("  STALE: the server has version %d %q", now.Version, now.Data)
	}
	if breaks := c.Stats().Breaks; breaks > n.breaks[c] {
		n.breaks[c] = breaks
		if !hit {
			line += "  (a callback had voided the cached copy)"
		}
	}
	fmt.Fprintln(n.out, line)
}

// write has c store new contents, and says whom the server called back.
func (n *narrator) write(ctx context.Context, c *afs.Client, who, data string) {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	before := n.s.server.Stats()
	f, err := c.Write(ctx, fileName, data)
	if err != nil {
		fmt.Fprintf(n.out, "   %-5s close: %s; did the store happen? %s cannot tell\n", who, n.failure(err), who)
		return
	}
	n.answered++
	after := n.s.server.Stats()
	line := fmt.Sprintf("   %-5s close: stored as version %d %q", who, f.Version, f.Data)
	switch broken, lost := after.Broken-before.Broken, after.Unreachable-before.Unreachable; {
	case lost > 0:
		line += fmt.Sprintf("; %s could not be delivered: those copies may be read stale", plural(lost, "callback"))
	case broken > 0:
		line += fmt.Sprintf("; the server first called back %s holding a copy", plural(broken, "client"))
	default:
		line += "; nobody was told"
	}
	fmt.Fprintln(n.out, line)
}

// failure says what a call's error means, and counts it.
func (n *narrator) failure(err error) string {
	n.failed++
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("TIMED OUT: no reply within %v", n.timeout)
	}
	return "FAILED: " + err.Error()
}

// summary prints the counts: where opens were served from, the calls made
// and the messages the network carried, and what they mean. It returns
// them.
func (n *narrator) summary(cfg config) report {
	a, b, srv := n.s.alice.Stats(), n.s.bob.Stats(), n.s.server.Stats()
	stale := n.stale[n.s.alice] + n.stale[n.s.bob]
	sent, lost := n.s.messages()
	r := report{alice: a, bob: b, aliceStale: n.stale[n.s.alice], bobStale: n.stale[n.s.bob],
		server: srv, failed: n.failed, messages: sent, lost: lost}
	fmt.Fprintln(n.out, "\nSummary:")
	fmt.Fprintf(n.out, "   alice opened %s %s: %d from the cache, %d fetched; %d stale reads; %d callbacks received.\n",
		fileName, times(a.Opens), a.Hits, a.Fetches, n.stale[n.s.alice], a.Breaks)
	fmt.Fprintf(n.out, "   bob   opened %s %s: %d from the cache, %d fetched; %d stale reads; wrote it %s.\n",
		fileName, times(b.Opens), b.Hits, b.Fetches, n.stale[n.s.bob], times(cfg.rounds))
	fmt.Fprintf(n.out, "   server: %d fetches, %d stores, %d callbacks made, %d undelivered.\n",
		srv.Fetches, srv.Stores, srv.Broken, srv.Unreachable)
	fmt.Fprintf(n.out, "   The cache served %d of %d opens without a message.\n", a.Hits+b.Hits, a.Opens+b.Opens)
	if n.failed > 0 {
		fmt.Fprintf(n.out, "   %s got no answer in time: the network lost its requests or their replies.\n", plural(n.failed, "call"))
	}
	fmt.Fprintf(n.out, "   netsim carried %d messages and lost %d.\n", sent, lost)

	fmt.Fprintln(n.out)
	switch {
	case cfg.nocallbacks && stale > 0:
		fmt.Fprintf(n.out, "No callbacks: fewer messages, and %s of an old version after bob's writes.\n", plural(stale, "read"))
		fmt.Fprintln(n.out, "Run without -nocallbacks: the server calls alice back, and her next open fetches the new version.")
	case cfg.nocallbacks:
		fmt.Fprintln(n.out, "No callbacks, and no stale read this time: nobody opened a cached copy after a write.")
	case stale > 0 && srv.Unreachable > 0:
		fmt.Fprintf(n.out, "%s STALE although the server promised callbacks: %s could not be delivered,\n", plural(stale, "read was"), plural(srv.Unreachable, "callback"))
		fmt.Fprintln(n.out, "and a client that misses its callback goes on using its copy. (AFS limits the damage: callbacks")
		fmt.Fprintln(n.out, "expire, and a client that lost touch with the server checks its copies before using them.)")
	case stale > 0:
		fmt.Fprintf(n.out, "%s STALE although the server promised callbacks.\n", plural(stale, "read was"))
	default:
		fmt.Fprintf(n.out, "%s made for %d writes, and no open read a stale copy;\n", plural(srv.Broken, "callback was"), srv.Stores)
		fmt.Fprintln(n.out, "every other open was served from the cache without a message. Try -nocallbacks.")
	}
	return r
}

// plural returns "1 thing" or "n things"; a thing of two words
// ("read was") gets its plural on the first ("reads were").
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if first, rest, ok := strings.Cut(thing, " "); ok {
		if rest == "was" {
			rest = "were"
		}
		return fmt.Sprintf("%d %ss %s", n, first, rest)
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
