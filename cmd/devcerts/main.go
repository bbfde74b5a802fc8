// Command devcerts makes a development certificate authority and the
// certificates the programs under cmd/ need for TLS and mutual TLS:
//
//	devcerts -hosts 10.0.0.1,10.0.0.2,lab-3.example.edu -out certs
//
// writes certs/ca.pem (what -tls-ca names), certs/server.pem and
// certs/server-key.pem (a certificate valid for every host given, plus
// localhost and 127.0.0.1: what servers present with -tls-cert and
// -tls-key), and certs/client.pem and certs/client-key.pem (for clients, in
// mutual TLS). Copy the directory to every machine. The CA's own key is not
// kept: for more certificates, make a new set.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/certgen"
	"github.com/distsys-kit/distsys/cmd/internal/cli"
)

func main() { cli.Main("devcerts", run) }

const about = `Devcerts makes a development CA and certificates for TLS and mutual TLS
between the programs of cmd/: ca.pem, server.pem, server-key.pem, client.pem,
client-key.pem. They are for a course's lab, not for production.`

func run(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("devcerts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cli.SetUsage(fs, "devcerts -hosts HOST,... [-out DIR] [-valid DURATION]", about)
	hosts := fs.String("hosts", "", "comma-separated host names and IPs the server certificate is for (localhost and 127.0.0.1 are always added)")
	out := fs.String("out", "certs", "`directory` to write the files to")
	valid := fs.Duration("valid", 30*24*time.Hour, "how long the certificates are valid")
	if ok, err := cli.Parse(fs, args); !ok {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return cli.Usagef(fs, "devcerts takes no arguments, only flags (got %q)", fs.Arg(0))
	case *valid <= 0:
		return cli.Usagef(fs, "-valid must be positive")
	}
	var list []string
	for _, h := range strings.Split(*hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			list = append(list, h)
		}
	}
	files, err := certgen.Write(*out, list, *valid)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "devcerts: wrote %s, %s, %s, %s, %s\n", files.CA, files.ServerCert, files.ServerKey, files.ClientCert, files.ClientKey)
	fmt.Fprintf(stdout, "devcerts: servers: -tls-cert %s -tls-key %s -tls-ca %s\n", files.ServerCert, files.ServerKey, files.CA)
	fmt.Fprintf(stdout, "devcerts: clients: -tls-cert %s -tls-key %s -tls-ca %s\n", files.ClientCert, files.ClientKey, files.CA)
	return nil
}
