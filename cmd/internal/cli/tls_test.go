package cli

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/cmd/internal/certgen"
)

func TestTLSFlagsOffWithoutFlags(t *testing.T) {
	var f TLSFlags
	s, err := f.ServerConfig()
	require.NoError(t, err)
	assert.Nil(t, s)
	c, err := f.ClientConfig()
	require.NoError(t, err)
	assert.Nil(t, c)
}

func TestTLSFlagsMutualHandshake(t *testing.T) {
	files, err := certgen.Write(t.TempDir(), nil, time.Hour)
	require.NoError(t, err)
	server := TLSFlags{Cert: files.ServerCert, Key: files.ServerKey, CA: files.CA}
	client := TLSFlags{Cert: files.ClientCert, Key: files.ClientKey, CA: files.CA}
	scfg, err := server.ServerConfig()
	require.NoError(t, err)
	assert.Equal(t, tls.RequireAndVerifyClientCert, scfg.ClientAuth)
	ccfg, err := client.ClientConfig()
	require.NoError(t, err)
	require.NoError(t, handshake(t, scfg, ccfg))

	anon := TLSFlags{CA: files.CA}
	acfg, err := anon.ClientConfig()
	require.NoError(t, err)
	assert.Error(t, handshake(t, scfg, acfg), "mutual TLS refuses a client without a certificate")

	plain := TLSFlags{Cert: files.ServerCert, Key: files.ServerKey}
	pcfg, err := plain.ServerConfig()
	require.NoError(t, err)
	assert.NoError(t, handshake(t, pcfg, acfg), "one-way TLS needs no client certificate")
}

// handshake runs a TLS handshake over a pipe and returns the client's error.
func handshake(t *testing.T, scfg, ccfg *tls.Config) error {
	t.Helper()
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	ccfg = ccfg.Clone()
	ccfg.ServerName = "localhost"
	done := make(chan error, 1)
	go func() {
		s := tls.Server(b, scfg)
		err := s.Handshake()
		if err == nil {
			_, err = s.Write([]byte("x")) // the client learns of a refusal on its first read
		}
		done <- err
		b.Close()
	}()
	c := tls.Client(a, ccfg)
	err := c.Handshake()
	if err == nil {
		_, err = c.Read(make([]byte, 1))
	}
	a.Close()
	<-done
	return err
}

func TestTLSFlagsErrors(t *testing.T) {
	dir := t.TempDir()
	files, err := certgen.Write(dir, nil, time.Hour)
	require.NoError(t, err)
	notPEM := filepath.Join(dir, "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o644))

	serverTests := []struct {
		name string
		give TLSFlags
		want string
	}{
		{"without key", TLSFlags{Cert: files.ServerCert}, "a server needs both -tls-cert and -tls-key"},
		{"with CA only", TLSFlags{CA: files.CA}, "a server needs both -tls-cert and -tls-key"},
		{"key of another cert", TLSFlags{Cert: files.ServerCert, Key: files.ClientKey}, "-tls-cert/-tls-key: tls: private key does not match public key"},
		{"CA not PEM", TLSFlags{Cert: files.ServerCert, Key: files.ServerKey, CA: notPEM}, "-tls-ca: no PEM certificate in"},
	}
	for _, tt := range serverTests {
		t.Run("server "+tt.name, func(t *testing.T) {
			_, err := tt.give.ServerConfig()
			require.ErrorContains(t, err, tt.want)
		})
	}
	clientTests := []struct {
		name string
		give TLSFlags
		want string
	}{
		{"cert without key", TLSFlags{Cert: files.ClientCert}, "-tls-cert and -tls-key go together"},
		{"missing CA", TLSFlags{CA: filepath.Join(dir, "nope.pem")}, "-tls-ca: open"},
		{"CA not PEM", TLSFlags{CA: notPEM}, "-tls-ca: no PEM certificate in"},
	}
	for _, tt := range clientTests {
		t.Run("client "+tt.name, func(t *testing.T) {
			_, err := tt.give.ClientConfig()
			require.ErrorContains(t, err, tt.want)
		})
	}
}
