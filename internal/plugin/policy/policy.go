// Package policy is `kubectl savepoint policy`: SavepointPolicies, which
// take savepoints on a schedule, delete the older ones and give defaults to
// a namespace's savepoints. Its subcommands create, list, describe,
// suspend, resume and run one.
package policy

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

// NewCmd returns `kubectl savepoint policy` and its subcommands.
func NewCmd(f cmdutil.Factory, streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "policy",
		Aliases: []string{"policies", "spp"},
		Short:   "Take savepoints on a schedule and delete the older ones (SavepointPolicies)",
		Long: `A SavepointPolicy takes a savepoint of each parent it covers on a schedule
(cron or @every, in a time zone, spread by jitter, held back in blackout
windows), deletes the older ones its retention names (never a MANUAL or
IMPORTED savepoint, the newest COMPLETED one of a parent, or a restore
point), and, when it names no parents, is the namespace default: it covers
every application and statement no more specific policy covers, and its
template is the default of every Savepoint of the namespace.

For each parent the most specific policy applies: one naming it, then one
whose selector matches its labels, then the namespace default.`,
		Example: `  # Every night at 02:00 Berlin time, spread over 10 minutes, keeping 7
  kubectl savepoint policy create nightly --schedule '0 2 * * *' --time-zone Europe/Berlin \
    --jitter 10m --keep-last 7

  # Which policies there are, when they last succeeded and run next
  kubectl savepoint policy list

  # A policy in full, with each parent's newest good savepoint and next runs
  kubectl savepoint policy describe nightly

  # Take a savepoint of every covered parent now, and wait for them
  kubectl savepoint policy run nightly --wait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(
		newCreateCmd(f, NewCreateOptions(streams)),
		NewListCmd(f, streams),
		newDescribeCmd(f, NewDescribeOptions(streams)),
		NewSuspendCmd(f, streams, true),
		NewSuspendCmd(f, streams, false),
		NewRunCmd(f, streams),
	)
	return cmd
}

// typeMeta is a SavepointPolicy's, for printers and manifests.
var typeMeta = metav1.TypeMeta{APIVersion: cmfv1.GroupVersion.String(), Kind: "SavepointPolicy"}

// notFound turns "not found" into the sentence that says where to look.
func notFound(err error, name, ns string) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("savepointpolicy %s not found in namespace %s: list them with kubectl savepoint policy list", name, ns)
	}
	return cmdutil.UserError(err)
}

// covers says in words which parents p names: "namespace default" when
// none.
func covers(p *cmfv1.SavepointPolicy) string {
	if p.NamespaceDefault() {
		return "namespace default"
	}
	var parts []string
	if names := p.Spec.Parents.Applications; len(names) > 0 {
		parts = append(parts, "applications "+strings.Join(names, ", "))
	}
	if names := p.Spec.Parents.Statements; len(names) > 0 {
		parts = append(parts, "statements "+strings.Join(names, ", "))
	}
	if sel := p.Spec.Parents.Selector; sel != nil {
		parts = append(parts, "labels "+metav1.FormatLabelSelector(sel))
	}
	return strings.Join(parts, "; ")
}
