package afs

import (
	"context"
	"sync"

	"github.com/distsys-kit/distsys/rpc"
)

// Caller is how a Client calls the server: an *rpc.Client, or anything
// with the same Call.
type Caller interface {
	Call(ctx context.Context, method string, args, reply any) error
}

// Client is a client's cache manager (AFS calls it Venus): it opens files
// from its cache of whole files when it can, and fetches them from the
// server when it cannot. A cached copy is used until the server breaks its
// callback promise (Callback.Break, which the client serves: see
// Register), and, with callbacks off, for ever.
//
// A Client is safe for concurrent use.
type Client struct {
	name string
	rc   Caller // calls to the server

	mu     sync.Mutex       // protects cache, broken and the counters; calls to the server run without it
	cache  map[string]File  // whole files, by name
	broken map[string]int64 // file name -> the highest version a callback named

	opens, hits, fetches, breaks int
}

// NewClient returns the cache manager of the client called name, which
// calls the server through rc. The server calls it back by that name.
func NewClient(name string, rc Caller) *Client {
	return &Client{name: name, rc: rc, cache: map[string]File{}, broken: map[string]int64{}}
}

// Open returns the whole file name: from the cache if it holds a copy (hit
// is then true, and no message was sent), else fetched from the server,
// and cached. It blocks until the fetch is answered or ctx ends.
func (c *Client) Open(ctx context.Context, name string) (f File, hit bool, err error) {
	c.mu.Lock()
	c.opens++
	f, hit = c.cache[name]
	if hit {
		c.hits++
	}
	c.mu.Unlock()
	if hit {
		return f, true, nil
	}
	if err := c.rc.Call(ctx, "Files.Fetch", &FetchArgs{Name: name, Client: c.name}, &f); err != nil {
		return File{}, false, err
	}
	c.mu.Lock()
	c.fetches++
	c.keepLocked(f)
	c.mu.Unlock()
	return f, false, nil
}

// Write replaces the whole file name with data on the server, as closing a
// written file does in AFS, and keeps the new version in the cache. If the
// call fails (ctx ended: the store may or may not have happened), the
// cached copy is dropped.
func (c *Client) Write(ctx context.Context, name, data string) (File, error) {
	var f File
	if err := c.rc.Call(ctx, "Files.Store", &StoreArgs{Name: name, Data: data, Client: c.name}, &f); err != nil {
		// The store may or may not have happened: forget the cached copy.
		c.mu.Lock()
		delete(c.cache, name)
		c.mu.Unlock()
		return File{}, err
	}
	c.mu.Lock()
	c.keepLocked(f)
	c.mu.Unlock()
	return f, nil
}

// keepLocked caches f, unless a callback has already said that a newer
// version exists. That happens when the server's reply to a fetch and a
// callback for a store that came right after it cross: they travel on
// different connections, so the callback may arrive first. The caller holds
// c.mu.
func (c *Client) keepLocked(f File) {
	if f.Version < c.broken[f.Name] {
		delete(c.cache, f.Name)
		return
	}
	c.cache[f.Name] = f
}

// Register serves c's callback service on srv as "Callback": the server
// calls Callback.Break to tell c that its copy of a file is stale.
func (c *Client) Register(srv *rpc.Server) error {
	return srv.RegisterName("Callback", callbackService{c})
}

// callbackService is what a client serves to the server ("Callback").
type callbackService struct{ c *Client }

// Break is the server's callback: the client's copy of args.Name is stale.
// It drops the copy, so that the next Open fetches the file again.
func (s callbackService) Break(args *BreakArgs, _ *struct{}) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.breaks++
	if args.Version > c.broken[args.Name] {
		c.broken[args.Name] = args.Version
	}
	if f, ok := c.cache[args.Name]; ok && f.Version < args.Version {
		delete(c.cache, args.Name)
	}
	return nil
}

// ClientStats is what a client counted.
type ClientStats struct {
	Opens   int
	Hits    int // opens served from the cache, without a message
	Fetches int
	Breaks  int // callbacks received
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return ClientStats{c.opens, c.hits, c.fetches, c.breaks}
}
