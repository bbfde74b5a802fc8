package vfs_test

import (
	"fmt"
	"os"

	"github.com/distsys-kit/distsys/internal/vfs"
)

// A file written without a sync loses its bytes in a crash (its name
// survived only because WriteFileAtomic synced the directory they share);
// one written with WriteFileAtomic keeps them.
func ExampleMem() {
	m := vfs.NewMem()

	f, _ := m.OpenFile("careless", os.O_WRONLY|os.O_CREATE, 0o644)
	f.Write([]byte("written, never synced"))
	f.Close()
	vfs.WriteFileAtomic(m, "careful", []byte("written atomically"), 0o644)

	m.Crash()
	for _, name := range []string{"careless", "careful"} {
		b, err := m.ReadFile(name)
		fmt.Printf("%s: %q %v\n", name, b, err)
	}
	for _, op := range m.Ops() {
		fmt.Println(op)
	}
	// Output:
	// careless: "" <nil>
	// careful: "written atomically" <nil>
	// create careless
	// write careless 21@0
	// create careful.tmp
	// write careful.tmp 18@0
	// sync careful.tmp
	// rename careful.tmp careful
	// syncdir .
}
