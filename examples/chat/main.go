// Command chat runs a TCP chat room over package transport with three
// members, one of whom reads slowly, and shows that the room keeps working:
// each member has a bounded queue, and when carol's is full the server drops
// messages for her instead of waiting for her.
//
//	go run ./examples/chat
//	go run ./examples/chat -queue 1000   # a big queue: carol gets everything, late
//	go run ./examples/chat -messages 10 -trace /tmp/chat   # the space-time diagram of a short run
//	go run ./examples/chat -dashboard 127.0.0.1:8080       # live, for a lecture: the room on a simulated network, on a web page
//
// With -dashboard the room runs on the simulated network of package
// netsim instead of TCP, round after round, drawn on a web page where the
// instructor slows and cuts members' links and crashes nodes (live.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
)

func main() { demo.Main("chat", run) }

type config struct {
	messages int
	queue    int
	pace     time.Duration
	slow     time.Duration
	traceDir string
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.IntVar(&cfg.messages, "messages", 200, fmt.Sprintf("messages that alice and bob each send (with -dashboard: that every member sends each round, default %d)", liveMessages))
	fs.IntVar(&cfg.queue, "queue", 8, "messages the server queues per member before dropping")
	fs.DurationVar(&cfg.pace, "pace", 2*time.Millisecond, "pause between two messages of a sender (not with -dashboard)")
	fs.DurationVar(&cfg.slow, "slow", 20*time.Millisecond, "how long carol takes to read one message while the others talk (not with -dashboard: slow her link on the page)")
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.DashboardFlag(fs)
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	if fs.Lookup("dashboard").Value.String() != "" && !given(fs, "messages") {
		cfg.messages = liveMessages
	}
	if cfg.messages < 1 || cfg.queue < 1 || cfg.pace < 0 || cfg.slow < 0 || fs.NArg() > 0 {
		return demo.Usagef(fs, "-messages and -queue must be at least 1, -pace and -slow not negative, and no arguments")
	}
	isLive := fs.Lookup("dashboard").Value.String() != ""
	if isLive && cfg.messages > maxLiveMessages {
		return demo.Usagef(fs, "-dashboard sends at most %d messages per member a round (-messages)", maxLiveMessages)
	}
	tr := demo.NewTracer(cfg.traceDir, "chat room", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if isLive {
		return live(ctx, cfg, fs, tr, stdout)
	}
	if _, err := chat(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 2000

// account is what became of the messages meant for one member.
type account struct{ meant, received, dropped int }

// chat runs the room and returns each member's account.
func chat(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (map[string]account, error) {
	srv, err := startServer(ctx, cfg.queue, tr, out)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	fmt.Fprintf(out, "server listening on %s; each member has a queue of %d messages\n", srv.addr(), cfg.queue)

	var talked sync.WaitGroup
	talked.Add(2 * cfg.messages)
	srv.room.queued = talked.Done
	talkOver := make(chan struct{})

	names := []string{"alice", "bob", "carol"}
	clients := map[string]*client{}
	for _, name := range names {
		c, err := joinRoom(ctx, srv.addr(), name, name == "carol", tr)
		if err != nil {
			return nil, err
		}
		defer c.conn.Close()
		clients[name] = c
	}
	if cfg.slow > 0 {
		fmt.Fprintf(out, "alice, bob and carol joined; carol reads one message every %v while the others talk\n", cfg.slow)
	} else {
		fmt.Fprintln(out, "alice, bob and carol joined; carol reads as fast as the others (-slow 0)")
	}
	var readers sync.WaitGroup
	for _, c := range clients {
		readers.Add(1)
		go func() { // exits when the server hangs up
			defer readers.Done()
			c.readAll(ctx, talkOver, cfg.slow)
		}()
	}
	fmt.Fprintf(out, "alice and bob each send %d messages\n", cfg.messages)
	for _, name := range []string{"alice", "bob"} {
		go clients[name].talk(ctx, cfg.messages, cfg.pace)
	}
	talked.Wait()
	close(talkOver)
	dropped := srv.room.close(ctx)
	readers.Wait()

	fmt.Fprintln(out)
	var losers []string
	accounts := map[string]account{}
	for _, name := range names {
		a := account{meant: cfg.messages, received: clients[name].received, dropped: dropped[name]}
		if name == "carol" {
			a.meant = 2 * cfg.messages
		}
		accounts[name] = a
		fmt.Fprintf(out, "%-5s received %4d messages; the server dropped %4d meant for %s: %d of %d accounted for\n",
			name, a.received, a.dropped, name, a.received+a.dropped, a.meant)
		if a.dropped > 0 {
			losers = append(losers, name)
		}
	}
	fmt.Fprintln(out)
	conclude(out, cfg, losers)
	return accounts, ctx.Err()
}

// conclude says what the counts show: who lost messages, and why.
func conclude(out io.Writer, cfg config, losers []string) {
	switch {
	case len(losers) == 0:
		fmt.Fprintf(out, "Nobody lost a message: carol's backlog fit in her queue of %d and the TCP buffers between her\n", cfg.queue)
		fmt.Fprintln(out, "and the server, so she got everything, late. Send more (-messages 500) or queue less (-queue 2).")
	case len(losers) == 1 && losers[0] == "carol":
		fmt.Fprintln(out, "The room never waited for carol: the slow reader lost messages, and she did not slow the others.")
		if cfg.queue < 2*cfg.messages {
			fmt.Fprintf(out, "Try -queue %d: carol gets everything, later, and the server holds her backlog in memory.\n", 2*cfg.messages)
		}
	default:
		fmt.Fprintf(out, "%s lost messages: the senders outran ", joinAnd(losers))
		if cfg.pace == 0 {
			fmt.Fprintln(out, "every reader, not only the slow one (-pace 0: no pause")
			fmt.Fprintln(out, "between messages). The room still waited for nobody; each lost only what overflowed its own queue.")
		} else {
			fmt.Fprintln(out, "those readers too. The room still waited for nobody; each")
			fmt.Fprintln(out, "lost only what overflowed its own queue.")
		}
	}
}

// filler pads messages so that a slow reader's buffers fill quickly.
var filler = strings.Repeat("~", 100)

// joinAnd lists names: "alice", "alice and bob", "alice, bob and carol".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
