package cmdutil

import (
	"bufio"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// Confirm writes question to errOut and reads one line of answer from in:
// only y or yes (any case) is a yes; anything else, or no answer, is a no.
func Confirm(in io.Reader, errOut io.Writer, question string) bool {
	Fprintf(errOut, "%s [y/N] ", question)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes"
}

// IsTerminal reports whether in is a terminal, where a user can answer a
// question (not a pipe, a file or a CI job's closed stdin).
func IsTerminal(in io.Reader) bool {
	f, ok := in.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
