package certgen_test

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/certgen"
)

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "certs")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	files, err := certgen.Write(dir, []string{"10.0.0.1", "10.0.0.2", "lab-3.example.edu"}, 24*time.Hour)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range []string{files.CA, files.ServerCert, files.ServerKey, files.ClientCert, files.ClientKey} {
		fmt.Println(filepath.Base(f))
	}
	// Output:
	// ca.pem
	// server.pem
	// server-key.pem
	// client.pem
	// client-key.pem
}
