package devcert_test

import (
	"crypto/tls"
	"fmt"
	"net"

	"github.com/distsys-kit/distsys/devcert"
)

// A TLS handshake between a server and a client of the same Set succeeds;
// a client of another Set does not trust the server.
func Example() {
	certs, _ := devcert.New()
	other, _ := devcert.New()
	handshake := func(client *tls.Config) error {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		defer l.Close()
		go func() {
			nc, err := l.Accept()
			if err != nil {
				return
			}
			defer nc.Close()
			tls.Server(nc, certs.Server).Handshake()
		}()
		nc, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			return err
		}
		defer nc.Close()
		return tls.Client(nc, client).Handshake()
	}
	fmt.Println("same authority:", handshake(certs.Client) == nil)
	fmt.Println("another authority:", handshake(other.Client) == nil)
	// Output:
	// same authority: true
	// another authority: false
}
