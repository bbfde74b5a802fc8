//go:build linux

package netns

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// ip runs the ip command with args and returns its error, with what it
// printed.
func ip(args ...string) error {
	_, err := run("ip", args...)
	return err
}

// run runs a command and returns its standard output, or an error that
// quotes the command and what it printed on standard error.
func run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("netns: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}
