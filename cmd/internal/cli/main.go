package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// ErrUsage is what a program's run returns for bad flags or arguments,
// after it has explained the problem on stderr. Main exits with status 2
// for it, without printing it again.
var ErrUsage = errors.New("usage")

// RunFunc is the shape of every program's logic: it takes the arguments
// (without the program name) and the writers, and returns when ctx ends
// (after a graceful shutdown) or its work is done. Tests call it directly.
type RunFunc func(ctx context.Context, args []string, stdout, stderr io.Writer) error

// Main runs run with the process's arguments and writers, and a context
// that ends on SIGINT (Ctrl-C) or SIGTERM (what kill and systemd send).
// For a server, that is the normal way to stop: run shuts down gracefully
// and returns nil, and Main exits with status 0. Main exits with status 2
// on ErrUsage, 130 after "name: interrupted" when a signal cut a job short
// (run returned context.Canceled), and 1, after printing "name: error", on
// any other error.
// A second signal during the shutdown kills the program at once, as the
// default action of the signal does.
func Main(name string, run RunFunc) {
	os.Exit(exitCode(name, run, os.Args[1:], os.Stdout, os.Stderr))
}

func exitCode(name string, run RunFunc, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, stop restores the default action, so that a
	// second one kills a shutdown that hangs.
	context.AfterFunc(ctx, stop)
	defer stop()
	err := run(ctx, args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrUsage):
		return 2 // run has said what is wrong
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "%s: interrupted\n", name)
		return 130 // as a shell reports a program stopped by Ctrl-C
	default:
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
}

// Parse parses args with fs, whose output must already be set to the
// program's stderr. It reports ok when the program should go on; when not,
// the program returns err: nil after -h (the usage is printed), ErrUsage
// after a bad flag (the flag package has printed the error and the usage).
func Parse(fs *flag.FlagSet, args []string) (ok bool, err error) {
	err = fs.Parse(args)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, flag.ErrHelp):
		return false, nil
	default:
		return false, ErrUsage
	}
}

// Usagef prints "name: message" and the usage of fs to fs's output and
// returns ErrUsage, for a program's own checks of its flags.
func Usagef(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fs.Usage()
	return ErrUsage
}

// SetUsage makes fs print "usage: SYNOPSIS", the lines of about, and then
// its flags, for -h and for errors.
func SetUsage(fs *flag.FlagSet, synopsis string, about string) {
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n\n%s\n\nFlags:\n", synopsis, about)
		fs.PrintDefaults()
	}
}
