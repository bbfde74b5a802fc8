package cli_test

import (
	"fmt"
	"strings"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
)

func ExampleParseCluster() {
	file := `# the course cluster
lock = 10.0.0.1:7070   # the lock server
kv   = 10.0.0.2:7080
`
	c, err := cli.ParseCluster("cluster.conf", strings.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	kv, _ := c.Lookup("kv")
	fmt.Println(kv.Addr, "listens on", kv.ListenAddr())

	_, err = cli.ParseCluster("cluster.conf", strings.NewReader("lock=10.0.0.1:7070\nkv 10.0.0.2:7080\n"))
	fmt.Println(err)
	// Output:
	// 10.0.0.2:7080 listens on :7080
	// cluster.conf:2: want id=host:port, got "kv 10.0.0.2:7080"
}
