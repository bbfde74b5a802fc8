// Package demotest holds the checks every example's tests make of its
// command line: that bad flags are explained with the usage and run
// nothing, and that -h prints the usage and is not an error.
package demotest

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/examples/demo"
)

// UsageCase is a bad command line and a part of what it must print on
// stderr.
type UsageCase struct {
	Name string   // the subtest's name
	Args []string // the arguments, without the program name
	Want string   // a part of stderr
}

// CheckUsage runs run with each case's arguments, in a subtest, and checks
// that it returns demo.ErrUsage, that stderr holds the case's Want and then
// "Usage of name", and that nothing was printed on stdout.
func CheckUsage(t *testing.T, run demo.RunFunc, name string, cases []UsageCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tc.Args, &out, &errb)
			require.ErrorIs(t, err, demo.ErrUsage)
			assert.Contains(t, errb.String(), tc.Want)
			assert.Contains(t, errb.String(), "Usage of "+name, "the usage follows the message")
			assert.Empty(t, out.String(), "nothing ran")
		})
	}
}

// CheckHelp runs run with -h and checks that it is not an error, that the
// usage on stderr holds want (a flag's name, say), and that nothing was
// printed on stdout.
func CheckHelp(t *testing.T, run demo.RunFunc, want string) {
	t.Helper()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-h"}, &out, &errb))
	assert.Contains(t, errb.String(), want)
	assert.Empty(t, out.String(), "nothing ran")
}
