package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/examples/demo/demotest"
	"github.com/distsys-kit/distsys/trace"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestEachAttemptWorksAndEachFixStopsIt(t *testing.T) {
	var out bytes.Buffer
	o, err := show(context.Background(), demo.NewTracer("", ""), &out)
	require.NoError(t, err)
	t.Log(out.String())

	assert.True(t, o.sniffedPlain, "plain rpc: the PIN is on the wire")
	assert.False(t, o.sniffedTLS, "TLS: it is not")

	assert.Equal(t, 90, o.tamperedPaid, "plain rpc: the changed amount is paid")
	assert.True(t, o.tamperRefused, "signed: the changed request is refused")

	assert.Equal(t, 1, o.replayRan, "signed only: the replay runs again")
	assert.True(t, o.replayRefused, "with nonces: it does not")

	assert.True(t, o.impostorGotPIN, "plain rpc: the fake bank gets the PIN")
	assert.True(t, o.impostorRefused, "TLS: alice refuses the fake bank's certificate")
	assert.True(t, o.fakeAliceRan, "server TLS: the bank takes mallory for alice")
	assert.True(t, o.fakeAliceRefused, "mutual TLS: the bank refuses mallory")
	assert.True(t, o.aliceMutualOK, "and takes alice")

	assert.True(t, o.forgedAccepted, "tokens on trust: the forgery passes")
	assert.True(t, o.aliceLockedOut, "and shuts the honest holder out")
	assert.True(t, o.forgedRefused, "signed tokens: the forgery is refused")
}

func TestSameRunEveryTime(t *testing.T) {
	var a, b, errb bytes.Buffer
	require.NoError(t, run(context.Background(), nil, &a, &errb), errb.String())
	require.NoError(t, run(context.Background(), nil, &b, &errb), errb.String())
	assert.Equal(t, a.String(), b.String())
}

func TestTraceWritesTheDiagram(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-trace", dir}, &out, &errb), errb.String())
	assert.Contains(t, out.String(), filepath.Join(dir, trace.HTMLFile))
	events, err := os.ReadFile(filepath.Join(dir, trace.JSONFile))
	require.NoError(t, err)
	for _, want := range []string{"Bank.Transfer", "Ledger.Write", "alice", "mallory"} {
		assert.Contains(t, string(events), want)
	}
}

func TestTraceIntoAFileFailsBeforeTheRun(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"-trace", file}, &out, &errb)
	require.ErrorContains(t, err, "-trace: mkdir "+file)
	assert.Empty(t, out.String(), "nothing ran")
}

func TestBadFlagsAreExplained(t *testing.T) {
	demotest.CheckUsage(t, run, "secure", []demotest.UsageCase{
		{Name: "unknown flag", Args: []string{"-bogus"}, Want: "flag provided but not defined: -bogus"},
		{Name: "stray argument", Args: []string{"x"}, Want: `secure takes no arguments, only flags (got "x")`},
	})
}

func TestHelpIsNotAnError(t *testing.T) {
	demotest.CheckHelp(t, run, "-trace")
}
