package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/cmd/internal/clitest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestHelp(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	clitest.CheckHelp(t, run, "devcerts", nil, string(readme))
}

func TestWritesCertificates(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-hosts", "10.0.0.1, lab", "-out", dir}, &out, &bytes.Buffer{}))
	assert.Contains(t, out.String(), "-tls-cert "+filepath.Join(dir, "server.pem"))
	_, err := tls.LoadX509KeyPair(filepath.Join(dir, "server.pem"), filepath.Join(dir, "server-key.pem"))
	require.NoError(t, err)
	_, err = tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"))
	require.NoError(t, err)
}

func TestUsageErrors(t *testing.T) {
	clitest.CheckUsageError(t, run, []string{"-valid", "0s"}, "-valid must be positive")
	clitest.CheckUsageError(t, run, []string{"extra"}, `takes no arguments, only flags (got "extra")`)
}
