package cli_test

import (
	"flag"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/lock"
)

// -lock-delay 0 means no lock-delay, not lock.Config's "zero: the
// default".
func TestLockDelayFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want time.Duration
	}{
		{nil, lock.DefaultLockDelay},
		{[]string{"-lock-delay", "2s"}, 2 * time.Second},
		{[]string{"-lock-delay", "0"}, -1},
		{[]string{"-lock-delay", "-1s"}, -time.Second},
	} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		d := cli.LockDelayFlag(fs, "how long")
		require.NoError(t, fs.Parse(tc.args))
		assert.Equal(t, tc.want, cli.LockDelay(*d), "%v", tc.args)
	}
}
