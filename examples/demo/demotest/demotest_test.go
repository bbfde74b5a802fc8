package demotest

import (
	"context"
	"flag"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeRun is an example with one flag, -n, that must be at least 1; it
// records the arguments it saw.
func fakeRun(seen *[][]string) demo.RunFunc {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		*seen = append(*seen, args)
		fs := flag.NewFlagSet("fake", flag.ContinueOnError)
		fs.SetOutput(stderr)
		n := fs.Int("n", 1, "how many")
		if ok, err := demo.Parse(fs, args); !ok {
			return err
		}
		if *n < 1 {
			return demo.Usagef(fs, "-n must be at least 1")
		}
		fmt.Fprintln(stdout, "ran", *n)
		return nil
	}
}

func TestCheckUsageRunsEveryCase(t *testing.T) {
	var seen [][]string
	cases := []UsageCase{
		{"unknown flag", []string{"-bogus"}, "flag provided but not defined: -bogus"},
		{"zero", []string{"-n", "0"}, "-n must be at least 1"},
	}
	CheckUsage(t, fakeRun(&seen), "fake", cases)
	assert.Equal(t, [][]string{{"-bogus"}, {"-n", "0"}}, seen)
}

func TestCheckHelpRunsWithH(t *testing.T) {
	var seen [][]string
	CheckHelp(t, fakeRun(&seen), "how many")
	assert.Equal(t, [][]string{{"-h"}}, seen)
}
