package devcert

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"time"
)

// Set holds the TLS configurations for one generated authority.
type Set struct {
	// Server presents a certificate for localhost and 127.0.0.1.
	Server *tls.Config
	// Client trusts the authority and presents no certificate.
	Client *tls.Config
	// MutualServer is Server that also requires a client certificate
	// signed by the authority.
	MutualServer *tls.Config
	// MutualClient is Client that also presents a client certificate.
	MutualClient *tls.Config
}

// New generates a fresh authority and its certificates.
func New() (*Set, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("devcert: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "distsys dev CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("devcert: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("devcert: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca)

	leaf := func(serial int64, name string, usage x509.ExtKeyUsage) (tls.Certificate, error) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return tls.Certificate{}, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(24 * time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			DNSNames:     []string{"localhost"},
			IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
	}
	serverCert, err := leaf(2, "localhost", x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, fmt.Errorf("devcert: %w", err)
	}
	clientCert, err := leaf(3, "distsys client", x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, fmt.Errorf("devcert: %w", err)
	}
	return &Set{
		Server: &tls.Config{Certificates: []tls.Certificate{serverCert}, MinVersion: tls.VersionTLS13},
		Client: &tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS13},
		MutualServer: &tls.Config{
			Certificates: []tls.Certificate{serverCert},
			ClientAuth:   tls.RequireAndVerifyClientCert,
			ClientCAs:    pool,
			MinVersion:   tls.VersionTLS13,
		},
		MutualClient: &tls.Config{
			Certificates: []tls.Certificate{clientCert},
			RootCAs:      pool,
			ServerName:   "localhost",
			MinVersion:   tls.VersionTLS13,
		},
	}, nil
}
