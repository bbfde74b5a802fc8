package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// A file is a file to count, and its size.
type file struct {
	path string
	size int64
}

// corpus returns the files to count, and says in words what they are: the
// named files, or with no names the source files of the Go installation.
func corpus(ctx context.Context, names []string) ([]file, string, error) {
	if len(names) > 0 {
		files, err := statFiles(names)
		return files, "the files given", err
	}
	root, err := goroot(ctx)
	if err != nil {
		return nil, "", err
	}
	src := filepath.Join(root, "src")
	files, err := goSources(src)
	return files, "the Go installation's source files in " + src, err
}

// goroot returns where Go is installed, as the go command says, or else
// where the Go that built this program was.
func goroot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOROOT").Output()
	if dir := strings.TrimSpace(string(out)); err == nil && dir != "" {
		return dir, nil
	}
	if dir := runtime.GOROOT(); dir != "" {
		return dir, nil
	}
	return "", errors.New("cannot find the Go installation (is go on the PATH?): name the files to count instead")
}

// goSources returns every .go file under dir.
func goSources(dir string) ([]file, error) {
	var files []file
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || !strings.HasSuffix(path, ".go") {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files = append(files, file{path, info.Size()})
		return nil
	})
	if err == nil && len(files) == 0 {
		err = fmt.Errorf("no .go files in %s: name the files to count instead", dir)
	}
	return files, err
}

// statFiles checks that every name is a file this program can read, so
// that a typo is reported now, and not as a map task that fails.
func statFiles(names []string) ([]file, error) {
	files := make([]file, 0, len(names))
	for _, name := range names {
		info, err := os.Stat(name)
		switch {
		case err != nil:
			return nil, err // "stat name: no such file or directory"
		case info.IsDir():
			return nil, fmt.Errorf("%s is a directory: name the files in it instead (%s)", name, filepath.Join(name, "*"))
		case !info.Mode().IsRegular():
			return nil, fmt.Errorf("%s is not a regular file", name)
		}
		f, err := os.Open(name)
		if err != nil {
			return nil, err // "open name: permission denied"
		}
		f.Close()
		files = append(files, file{name, info.Size()})
	}
	return files, nil
}

// pack returns the job's inputs. Each map task costs a few rpcs and files
// however small its input, so MapReduce wants a few big inputs (GFS gave
// it 64 MB chunks), and a Go tree is thousands of small files: one task
// per file makes the job several times slower. So pack copies the files
// smaller than limit, one after the other, into input files of at most
// limit bytes in dir, with a newline after each so that no word spans two
// of them. Bigger files are used in place: mapreduce splits them.
func pack(files []file, limit int64, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &packer{dir: dir, limit: limit}
	for _, f := range files {
		if f.size >= limit {
			p.inputs = append(p.inputs, f.path)
			continue
		}
		if err := p.add(f.path); err != nil {
			p.close()
			return nil, err
		}
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	return p.inputs, nil
}

// A packer writes small files into input files of at most limit bytes.
type packer struct {
	dir    string
	limit  int64
	inputs []string // the inputs so far, packed or not

	f      *os.File // the input being filled, or nil
	w      *bufio.Writer
	filled int64
}

// add appends the file at path to the input being filled, after starting
// a new one if it would not fit.
func (p *packer) add(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	if p.f != nil && p.filled+int64(len(data)) > p.limit {
		if err := p.close(); err != nil {
			return err
		}
	}
	if p.f == nil {
		name := filepath.Join(p.dir, fmt.Sprintf("input-%05d", len(p.inputs)))
		if p.f, err = os.Create(name); err != nil {
			return err
		}
		p.w, p.filled = bufio.NewWriter(p.f), 0
		p.inputs = append(p.inputs, name)
	}
	p.filled += int64(len(data))
	_, err = p.w.Write(data)
	return err
}

// close finishes the input being filled, if any.
func (p *packer) close() error {
	if p.f == nil {
		return nil
	}
	err := errors.Join(p.w.Flush(), p.f.Close())
	p.f = nil
	return err
}

// size is a number of bytes, as a flag value: "4MiB", "512KiB", "2048".
type size int64

// String formats s for people: "86.2 MiB".
func (s *size) String() string {
	n := float64(*s)
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", n/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%d B", int64(*s))
}

// Set parses a number of bytes with an optional unit: B, KiB, MiB, GiB
// (KB, MB and GB, or K, M and G, mean the same). It must be at least 1 KiB.
func (s *size) Set(v string) error {
	units := map[string]float64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
		"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}
	v = strings.TrimSpace(v)
	num := strings.TrimRight(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
	unit, ok := units[strings.ToLower(strings.TrimSpace(v[len(num):]))]
	n, err := strconv.ParseFloat(num, 64)
	if !ok || err != nil {
		return fmt.Errorf("want a size like 4MiB or 512KiB, not %q", v)
	}
	if n*unit < 1<<10 || n*unit > 1<<40 {
		return fmt.Errorf("%s is too small or too big: want 1KiB to 1TiB", v)
	}
	*s = size(n * unit)
	return nil
}
