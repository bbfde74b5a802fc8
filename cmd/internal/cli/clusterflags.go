package cli

import (
	"flag"
	"fmt"
)

// ClusterFlags are the flags that tie a program to a cluster file:
// -config names the file, -id the program's own entry in it. A server
// with them listens on its entry's port unless -listen says otherwise, and
// a client names its server by ID ("-server lock") as well as by address.
type ClusterFlags struct {
	File    string
	ID      string
	Cluster Cluster // what File says, after Load
}

// Register adds -config and -id to fs; id is -id's default, the ID the
// program has in a cluster file unless told otherwise ("" for a client,
// which has no entry of its own).
func (f *ClusterFlags) Register(fs *flag.FlagSet, id string) {
	fs.StringVar(&f.File, "config", "", "cluster `file` naming the machines, one id=host:port per line")
	if id != "" {
		fs.StringVar(&f.ID, "id", id, "this server's `id` in the cluster file; it listens on that entry's port unless -listen is given")
	}
}

// Load reads the cluster file, if -config was given.
func (f *ClusterFlags) Load() error {
	if f.File == "" {
		return nil
	}
	c, err := LoadCluster(f.File)
	if err != nil {
		return err
	}
	f.Cluster = c
	return nil
}

// ListenAddr returns the address a server listens on: listen if fs's
// -listen flag was set on the command line; else, with a cluster file,
// every interface at the port of the entry -id names; else listen, the
// flag's default. Call it after Load.
func (f *ClusterFlags) ListenAddr(fs *flag.FlagSet, listen string) (string, error) {
	if f.File == "" || isSet(fs, "listen") {
		return listen, nil
	}
	p, err := f.Cluster.Lookup(f.ID)
	if err != nil {
		return "", fmt.Errorf("%s: -id: %w", f.File, err)
	}
	return p.ListenAddr(), nil
}

// Resolve returns the address of the peer named s in the cluster file, or
// s itself if the file names no such peer (or there is no file): so
// "-server lock" and "-server 10.0.0.1:7070" both work.
func (f *ClusterFlags) Resolve(s string) string {
	if p, err := f.Cluster.Lookup(s); err == nil {
		return p.Addr
	}
	return s
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}
