package certgen

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestWriteMakesCertificatesTheCAVerifies(t *testing.T) {
	dir := t.TempDir()
	f, err := Write(dir, []string{"10.1.2.3", "lab-1.example.edu"}, time.Hour)
	require.NoError(t, err)

	caPEM, err := os.ReadFile(f.CA)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM(caPEM))

	server, err := tls.LoadX509KeyPair(f.ServerCert, f.ServerKey)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(server.Certificate[0])
	require.NoError(t, err)
	for _, host := range []string{"10.1.2.3", "lab-1.example.edu", "localhost", "127.0.0.1"} {
		_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: host})
		assert.NoError(t, err, host)
	}
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: "10.9.9.9"})
	assert.Error(t, err, "a host not given")
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	assert.NoError(t, err, "servers that dial each other (raft) present it as clients")

	client, err := tls.LoadX509KeyPair(f.ClientCert, f.ClientKey)
	require.NoError(t, err)
	leaf, err = x509.ParseCertificate(client.Certificate[0])
	require.NoError(t, err)
	_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	assert.NoError(t, err)
}

func TestWriteKeepsKeysPrivate(t *testing.T) {
	dir := t.TempDir()
	f, err := Write(dir, nil, time.Hour)
	require.NoError(t, err)
	require.NoError(t, os.Chmod(f.ServerKey, 0o644))
	f, err = Write(dir, nil, time.Hour) // again, over the old files
	require.NoError(t, err)
	for _, key := range []string{f.ServerKey, f.ClientKey} {
		st, err := os.Stat(key)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), key)
	}
}

func TestWriteRefusesNoValidity(t *testing.T) {
	_, err := Write(t.TempDir(), nil, 0)
	require.ErrorContains(t, err, "validity must be positive")
}
