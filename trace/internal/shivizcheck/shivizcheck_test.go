package shivizcheck_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/trace/internal/shivizcheck"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const re = `(?<host>\S*) (?<clock>{.*})\n(?<event>.*)` + "\n\n"

func TestCheckAcceptsAGoodLog(t *testing.T) {
	events, err := shivizcheck.Check(re +
		"a {\"a\":1}\nsend\n" +
		"b {\"a\":1,\"b\":1}\nreceive\n" +
		"a {\"a\":2}\nlocal\n")
	require.NoError(t, err)
	assert.Len(t, events, 3)
}

func TestCheckRejectsBrokenRules(t *testing.T) {
	tests := []struct {
		name, log, want string
	}{
		{"starts at 2", re + "a {\"a\":2}\nx\n", "own count 2, want 1"},
		{"skips a tick", re + "a {\"a\":1}\nx\na {\"a\":3}\ny\n", "own count 3, want 2"},
		{"goes back", re + "a {\"a\":1,\"b\":1}\nx\nb {\"b\":1}\ny\na {\"a\":2}\nz\n", "went back"},
		{"unknown event", re + "a {\"a\":1,\"b\":4}\nx\n", "knows event 4 of b"},
		{"bad clock", re + "a {\"a\":one}\nx\n", "clock"},
		{"no empty line", `(?<host>\S*) (?<clock>{.*})\n(?<event>.*)` + "\na {\"a\":1}\nx\n", "no empty line"},
		{"no groups", "(.*)\n\n", "no \"host\" group"},
		{"a line that does not parse", re + "a {\"a\":1}\nx\nnonsense\n", "do not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := shivizcheck.Check(tt.log)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}
