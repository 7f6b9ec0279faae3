// Command kubectl-savepoint is the `kubectl savepoint` plugin.
package main

import (
	"fmt"
	"os"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/kubectl-savepoint/kubectl-savepoint/plugin"
)

func main() {
	cmd := plugin.NewCmdSavepoint(genericiooptions.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	if err := cmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
