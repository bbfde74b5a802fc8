package cli

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"os"
)

// TLSFlags are the TLS flags every program takes. The same three flags
// configure both ends, so a program that serves and dials (a raft node, a
// mapreduce worker) takes them once:
//
//	-tls-cert F -tls-key F   this machine's certificate and key: a server
//	                         presents it; a client presents it for mutual TLS
//	-tls-ca F                the authority to trust: a client checks the
//	                         server against it; a server with it requires
//	                         client certificates it signed (mutual TLS)
//
// With none of them, programs speak plain TCP.
type TLSFlags struct {
	Cert, Key, CA string
}

// Register adds -tls-cert, -tls-key and -tls-ca to fs.
func (f *TLSFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Cert, "tls-cert", "", "certificate `file` (PEM) to present, with -tls-key: a server's, or a client's for mutual TLS")
	fs.StringVar(&f.Key, "tls-key", "", "private key `file` (PEM) of -tls-cert")
	fs.StringVar(&f.CA, "tls-ca", "", "CA certificate `file` (PEM) to trust; a server with it requires client certificates (mutual TLS)")
}

// Enabled reports whether any TLS flag was given.
func (f *TLSFlags) Enabled() bool { return f.Cert != "" || f.Key != "" || f.CA != "" }

// ServerConfig returns the configuration a server listens with: nil, nil
// without TLS flags; an error if -tls-cert and -tls-key are not both
// given, or a file cannot be read.
func (f *TLSFlags) ServerConfig() (*tls.Config, error) {
	if !f.Enabled() {
		return nil, nil
	}
	if f.Cert == "" || f.Key == "" {
		return nil, errors.New("a server needs both -tls-cert and -tls-key")
	}
	cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientConfig returns the configuration a client dials with: nil, nil
// without TLS flags. It trusts -tls-ca (or, without it, the system's
// authorities) and presents -tls-cert if given; -tls-cert and -tls-key go
// together.
func (f *TLSFlags) ClientConfig() (*tls.Config, error) {
	if !f.Enabled() {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS13}
	switch {
	case f.Cert != "" && f.Key != "":
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	case f.Cert != "" || f.Key != "":
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if f.CA != "" {
		pool, err := loadPool(f.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

func loadPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-tls-ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("-tls-ca: no PEM certificate in %s", path)
	}
	return pool, nil
}
