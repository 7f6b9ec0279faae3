package cmdutil

import (
	"fmt"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DryRun is kubectl's --dry-run: "none", "client" (nothing is sent) or
// "server" (the API server and the webhook check the change, nothing is kept).
type DryRun string

// AddDryRunFlag adds --dry-run to cmd.
func AddDryRunFlag(cmd *cobra.Command, d *DryRun) {
	cmd.Flags().StringVar((*string)(d), "dry-run", "none", `"client": only print what would be sent; "server": have the API server and the webhook check it without keeping it.`)
	cmd.Flags().Lookup("dry-run").NoOptDefVal = "client"
}

// Validate checks the flag's value.
func (d DryRun) Validate() error {
	switch d {
	case "none", "client", "server":
		return nil
	}
	return fmt.Errorf(`--dry-run=%q: use "client", "server" or "none"`, string(d))
}

// Client reports a client-side dry run: send nothing.
func (d DryRun) Client() bool { return d == "client" }

// Server reports a server-side dry run.
func (d DryRun) Server() bool { return d == "server" }

// Suffix is what a confirmation line ends with.
func (d DryRun) Suffix() string {
	switch d {
	case "client":
		return " (dry run)"
	case "server":
		return " (server dry run)"
	}
	return ""
}

// CreateOptions, PatchOptions and DeleteOptions carry a server dry run.
func (d DryRun) CreateOptions() []client.CreateOption {
	if d.Server() {
		return []client.CreateOption{client.DryRunAll}
	}
	return nil
}

// PatchOptions carry a server dry run.
func (d DryRun) PatchOptions() []client.PatchOption {
	if d.Server() {
		return []client.PatchOption{client.DryRunAll}
	}
	return nil
}

// DeleteOptions carry a server dry run.
func (d DryRun) DeleteOptions() []client.DeleteOption {
	if d.Server() {
		return []client.DeleteOption{client.DryRunAll}
	}
	return nil
}
