// Package clitest runs a program's run function in a test: in a goroutine,
// with its stdout watched line by line, so that the test learns the
// addresses the program announces, talks to it, and stops it.
package clitest
