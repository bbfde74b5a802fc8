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

func ExampleCluster_Numbered() {
	file := `# three replicas of kvraftserver, and a lock server
raft1 = 10.0.0.1:7001
raft2 = 10.0.0.2:7001
raft3 = 10.0.0.3:7001
kv1   = 10.0.0.1:7080
kv2   = 10.0.0.2:7080
kv3   = 10.0.0.3:7080
lock  = 10.0.0.9:7070
`
	c, err := cli.ParseCluster("cluster.conf", strings.NewReader(file))
	if err != nil {
		fmt.Println(err)
		return
	}
	raft, _ := c.Numbered("raft")
	kv, _ := c.Numbered("kv")
	fmt.Println("raft server 2 is at", raft[2], "and serves clients at", kv[2])
	// Output:
	// raft server 2 is at 10.0.0.2:7001 and serves clients at 10.0.0.2:7080
}
