package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestExitCode(t *testing.T) {
	tests := []struct {
		name    string
		give    error
		want    int
		wantErr string
	}{
		{"success", nil, 0, ""},
		{"usage", ErrUsage, 2, ""},
		{"failure", errors.New("disk full"), 1, "prog: disk full\n"},
		{"cancelled without a signal", context.Canceled, 1, "prog: context canceled\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var errb bytes.Buffer
			run := func(context.Context, []string, io.Writer, io.Writer) error { return tt.give }
			assert.Equal(t, tt.want, exitCode("prog", run, nil, io.Discard, &errb))
			assert.Equal(t, tt.wantErr, errb.String())
		})
	}
}

func TestSIGTERMEndsTheContext(t *testing.T) {
	run := func(ctx context.Context, _ []string, _, _ io.Writer) error {
		if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
			return err
		}
		<-ctx.Done() // a server shuts down gracefully here
		return nil
	}
	assert.Equal(t, 0, exitCode("prog", run, nil, io.Discard, io.Discard))

	interrupted := func(ctx context.Context, _ []string, _, _ io.Writer) error {
		if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
			return err
		}
		<-ctx.Done() // a job cut short
		return ctx.Err()
	}
	var errb bytes.Buffer
	assert.Equal(t, 130, exitCode("prog", interrupted, nil, io.Discard, &errb))
	assert.Equal(t, "prog: interrupted\n", errb.String())
}

func TestParseAndUsage(t *testing.T) {
	var errb bytes.Buffer
	fs := flag.NewFlagSet("prog", flag.ContinueOnError)
	fs.SetOutput(&errb)
	fs.Int("n", 3, "how many")
	SetUsage(fs, "prog [-n N]", "Prog does things.")

	ok, err := Parse(fs, []string{"-h"})
	assert.False(t, ok)
	require.NoError(t, err, "-h is not an error")
	assert.Equal(t, "usage: prog [-n N]\n\nProg does things.\n\nFlags:\n  -n int\n    \thow many (default 3)\n", errb.String())

	errb.Reset()
	ok, err = Parse(fs, []string{"-x"})
	assert.False(t, ok)
	require.ErrorIs(t, err, ErrUsage)
	assert.Contains(t, errb.String(), "flag provided but not defined: -x")

	errb.Reset()
	require.ErrorIs(t, Usagef(fs, "-n must be %s", "positive"), ErrUsage)
	assert.Contains(t, errb.String(), "prog: -n must be positive\nusage: prog")
}
