// Command chat runs a TCP chat room over package transport with three
// members, one of whom reads slowly, and shows that the room keeps working:
// each member has a bounded queue, and when carol's is full the server drops
// messages for her instead of waiting for her.
//
//	go run ./examples/chat
//	go run ./examples/chat -queue 1000   # a big queue: carol gets everything, late
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, errUsage):
		os.Exit(2) // run has said what is wrong
	case err != nil:
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// errUsage reports bad flags, already explained on stderr.
var errUsage = errors.New("usage")

type config struct {
	messages int
	queue    int
	pace     time.Duration
	slow     time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.IntVar(&cfg.messages, "messages", 200, "messages that alice and bob each send")
	fs.IntVar(&cfg.queue, "queue", 8, "messages the server queues per member before dropping")
	fs.DurationVar(&cfg.pace, "pace", 2*time.Millisecond, "pause between two messages of a sender")
	fs.DurationVar(&cfg.slow, "slow", 20*time.Millisecond, "how long carol takes to read one message while the others talk")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return errUsage // the flag package has printed the error and the usage
	}
	if cfg.messages < 1 || cfg.queue < 1 || cfg.pace < 0 || cfg.slow < 0 || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "chat: -messages and -queue must be at least 1, -pace and -slow not negative, and no arguments")
		fs.Usage()
		return errUsage
	}
	return demo(ctx, cfg, stdout)
}

func demo(ctx context.Context, cfg config, out io.Writer) error {
	srv, err := startServer(ctx, cfg.queue, out)
	if err != nil {
		return err
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
		c, err := joinRoom(ctx, srv.addr(), name, name == "carol")
		if err != nil {
			return err
		}
		defer c.conn.Close()
		clients[name] = c
	}
	fmt.Fprintf(out, "alice, bob and carol joined; carol reads one message every %v while the others talk\n", cfg.slow)
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
	for _, name := range names {
		want := cfg.messages
		if name == "carol" {
			want = 2 * cfg.messages
		}
		got := clients[name].received
		fmt.Fprintf(out, "%-5s received %4d messages; the server dropped %4d meant for %s: %d of %d accounted for\n",
			name, got, dropped[name], name, got+dropped[name], want)
	}
	fmt.Fprintln(out, "\nThe room never waited for carol: a slow reader loses messages, she does not slow the others.")
	fmt.Fprintln(out, "Try -queue 1000: carol gets everything, later, and the server holds her backlog in memory.")
	return ctx.Err()
}

// filler pads messages so that a slow reader's buffers fill quickly.
var filler = strings.Repeat("~", 100)
