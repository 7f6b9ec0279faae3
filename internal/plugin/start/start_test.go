package start

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdtesting"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/plugin/cmdutil"
)

const ns = "team-a"

func TestCompleteValidate(t *testing.T) {
	orders := cmdutil.ParentFlags{Application: "orders"}
	tests := []struct {
		name      string
		set       func(o *Options)
		wantErr   string
		wantFirst bool // a savepoint to take first
	}{
		{name: "from a savepoint", set: func(o *Options) { o.Parent, o.Savepoint = orders, "nightly" }},
		{name: "with --savepoint-first", set: func(o *Options) { o.Parent, o.Savepoint, o.SavepointFirst = orders, "nightly", true }, wantFirst: true},
		{name: "no parent", set: func(o *Options) { o.Savepoint = "nightly" }, wantErr: "name the parent with --application NAME or --statement NAME"},
		{name: "no savepoint", set: func(o *Options) { o.Parent = orders }, wantErr: "name the savepoint with exactly one of --savepoint NAME, --uid UID or --path PATH"},
		{name: "two savepoints", set: func(o *Options) { o.Parent, o.Savepoint, o.UID = orders, "a", "b" }, wantErr: "name the savepoint with exactly one of --savepoint NAME, --uid UID or --path PATH"},
		{name: "a path for a statement", set: func(o *Options) { o.Parent.Statement, o.Path = "clicks", "s3://x" }, wantErr: "--path is for applications: a statement starts only from its own savepoints (--savepoint or --uid)"},
		{name: "--wait on a dry run", set: func(o *Options) { o.Parent, o.Path, o.Wait, o.DryRun = orders, "s3://x", true, "client" }, wantErr: "--wait and --dry-run: a dry run redeploys nothing to wait for; drop one"},
		{name: "a dry run kubectl does not know", set: func(o *Options) { o.Parent, o.Path, o.DryRun = orders, "s3://x", "maybe" }, wantErr: `--dry-run="maybe": use "client", "server" or "none"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			streams, _, _, _ := genericiooptions.NewTestIOStreams()
			o := NewOptions(streams)
			tt.set(o)
			require.NoError(t, o.Complete(cmdtesting.NewFactory(ns), nil, nil))
			assert.Equal(t, ns, o.namespace)
			err := o.Validate()
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			if !tt.wantFirst {
				assert.Nil(t, o.first)
				return
			}
			require.NotNil(t, o.first)
			assert.Equal(t, o.Parent, o.first.Parent)
			assert.True(t, o.first.Wait, "the savepoint first is waited for")
			assert.Equal(t, o.Timeout, o.first.Timeout)
		})
	}
}

// taken is when the start point was taken: a whole second, as the API
// server keeps times.
var taken = metav1.NewTime(time.Now().Add(-3 * time.Hour).Truncate(time.Second))

const (
	nightlyPath = "s3://flink/savepoints/savepoint-nightly"
	firstPath   = "s3://flink/savepoints/savepoint-first"
	jobID       = "a1b2c3d4"
)

var running = cmfv1.JobStatus{JobID: jobID, State: "RUNNING"}

func application(job cmfv1.JobStatus, nonce *int64) *cmfv1.FlinkApplication {
	return &cmfv1.FlinkApplication{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "orders"},
		Spec:       cmfv1.FlinkApplicationSpec{Job: &cmfv1.JobSpec{JarURI: "local:///job.jar", SavepointRedeployNonce: nonce}},
		Status:     cmfv1.FlinkApplicationStatus{JobStatus: job},
	}
}

func statement(job cmfv1.JobStatus) *cmfv1.Statement {
	return &cmfv1.Statement{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "clicks"},
		Spec:       cmfv1.StatementSpec{Statement: "INSERT INTO s SELECT 1", ComputePoolName: "pool"},
		Status:     cmfv1.StatementStatus{JobStatus: job},
	}
}

// savepoints are the start points: an application's, a statement's and a
// detached one.
func savepoints() []client.Object {
	return []client.Object{
		&cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "nightly", UID: "5a5a"},
			Spec:       cmfv1.SavepointSpec{Application: "orders"},
			Status:     cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: nightlyPath, ResultTimestamp: &taken},
		},
		&cmfv1.Savepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "of-clicks", UID: "c1c1"},
			Spec:       cmfv1.SavepointSpec{Statement: "clicks"},
			Status:     cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: "s3://flink/savepoints/savepoint-clicks", ResultTimestamp: &taken},
		},
		&cmfv1.DetachedSavepoint{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "kept"},
			Spec:       cmfv1.DetachedSavepointSpec{Path: "s3://flink/savepoints/savepoint-kept"},
		},
	}
}

// first names the savepoint --savepoint-first creates, as the webhook
// names one created without a name.
var first = interceptor.Funcs{Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
	obj.SetName("orders-first")
	return c.Create(ctx, obj, opts...)
}}

// firstEnds is the manager taking the savepoint --savepoint-first created.
func firstEnds(status cmfv1.SavepointStatus) cmdtesting.Change {
	return cmdtesting.SavepointBecomes(client.ObjectKey{Namespace: ns, Name: "orders-first"}, status)
}

// runs is the manager reporting the redeployed job of orders.
func runs(c client.Client) error {
	app := &cmfv1.FlinkApplication{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "orders"}, app); err != nil {
		return err
	}
	app.Status.LifecycleState = "RUNNING"
	app.Status.JobStatus = cmfv1.JobStatus{JobID: "e5f6", State: "RUNNING", RestoredFrom: nightlyPath}
	app.Status.Conditions = []metav1.Condition{{
		Type: cmfv1.ConditionReady, Status: metav1.ConditionTrue, Reason: cmfv1.ReasonRunning,
		ObservedGeneration: app.Generation, LastTransitionTime: metav1.Now(),
	}}
	return c.Update(context.Background(), app)
}

// anotherRedeployFirst has the first patch of orders meet a conflict: in
// the meantime, another redeploy set the nonce to 7.
func anotherRedeployFirst() interceptor.Funcs {
	conflicted := false
	return interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
		if conflicted {
			return c.Patch(ctx, obj, patch, opts...)
		}
		conflicted = true
		app := &cmfv1.FlinkApplication{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), app); err != nil {
			return err
		}
		app.Spec.Job.SavepointRedeployNonce = ptr.To[int64](7)
		if err := c.Update(ctx, app); err != nil {
			return err
		}
		return apierrors.NewConflict(schema.GroupResource{Group: cmfv1.GroupVersion.Group, Resource: "flinkapplications"}, obj.GetName(), nil)
	}}
}

func TestRun(t *testing.T) {
	question := "application orders runs job " + jobID + ": redeploying from savepoint nightly at " + nightlyPath +
		" discards the state it built since then (taken " + taken.UTC().Format(time.RFC3339) + ", 3h ago). Take a savepoint first with --savepoint-first, or pass --yes."
	fromNightly := &cmfv1.StartFromSavepoint{SavepointName: "nightly"}
	tests := []struct {
		name      string
		parent    client.Object
		args      []string
		intercept interceptor.Funcs
		changes   []cmdtesting.Change

		wantOut     string
		wantErrOut  []string // its lines; progress lines without their elapsed time
		wantErr     string
		wantStart   *cmfv1.StartFromSavepoint // the parent's startFromSavepoint after; nil: none
		wantNonce   int64
		wantFirstSp cmfv1.SavepointState // the state of the savepoint taken first; "" none
	}{{
		name:      "a job that does not run has nothing to lose: no question",
		parent:    application(cmfv1.JobStatus{}, nil),
		args:      []string{"-a", "orders", "--savepoint", "nightly"},
		wantOut:   "flinkapplication/orders redeploying from savepoint nightly (savepointRedeployNonce 1)\n",
		wantStart: fromNightly, wantNonce: 1,
	}, {
		name:      "the nonce counts on from the one found",
		parent:    application(cmfv1.JobStatus{State: "FINISHED"}, ptr.To[int64](4)),
		args:      []string{"-a", "orders", "--path", "s3://elsewhere", "--allow-non-restored-state"},
		wantOut:   "flinkapplication/orders redeploying from path s3://elsewhere (savepointRedeployNonce 5)\n",
		wantStart: &cmfv1.StartFromSavepoint{InitialSavepointPath: "s3://elsewhere", AllowNonRestoredState: ptr.To(true)}, wantNonce: 5,
	}, {
		name:      "a statement from its own savepoint, by UID",
		parent:    statement(cmfv1.JobStatus{}),
		args:      []string{"-s", "clicks", "--uid", "c1c1"},
		wantOut:   "statement/clicks redeploying from savepoint with uid c1c1 (savepointRedeployNonce 1)\n",
		wantStart: &cmfv1.StartFromSavepoint{UID: "c1c1"}, wantNonce: 1,
	}, {
		name:       "a running job, no terminal: told what goes, and refused",
		parent:     application(running, nil),
		args:       []string{"-a", "orders", "--savepoint", "nightly"},
		wantErrOut: []string{question},
		wantErr:    "not redeployed: application orders runs job " + jobID + " and there is no terminal to confirm on: pass --yes to discard its state, or --savepoint-first to keep it in a savepoint first",
	}, {
		name:      "a running job, --yes: redeployed without a word",
		parent:    application(running, nil),
		args:      []string{"-a", "orders", "--savepoint", "nightly", "--yes"},
		wantOut:   "flinkapplication/orders redeploying from savepoint nightly (savepointRedeployNonce 1)\n",
		wantStart: fromNightly, wantNonce: 1,
	}, {
		name:       "a running job, a server dry run: told, not asked, nothing kept",
		parent:     application(running, nil),
		args:       []string{"-a", "orders", "--savepoint", "nightly", "--dry-run=server"},
		wantOut:    "flinkapplication/orders redeploying from savepoint nightly (savepointRedeployNonce 1) (server dry run)\n",
		wantErrOut: []string{question},
	}, {
		name:       "a running job, a client dry run: nothing sent",
		parent:     application(running, nil),
		args:       []string{"-a", "orders", "--savepoint", "nightly", "--dry-run"},
		wantOut:    "flinkapplication/orders redeploying from savepoint nightly (savepointRedeployNonce 1) (dry run)\n",
		wantErrOut: []string{question},
	}, {
		name:    "a start point the webhook would refuse is refused before any question",
		parent:  statement(running),
		args:    []string{"-s", "clicks", "--savepoint", "kept"},
		wantErr: `spec.startFromSavepoint.savepointName "kept" names no Savepoint of Statement clicks in namespace team-a: a Statement starts only from its own attached Savepoints (kubectl savepoint list -s clicks)`,
	}, {
		name:       "--savepoint-first keeps the running job's state, then redeploys",
		parent:     application(running, nil),
		args:       []string{"-a", "orders", "--savepoint", "nightly", "--savepoint-first"},
		intercept:  first,
		changes:    []cmdtesting.Change{firstEnds(cmfv1.SavepointStatus{State: cmfv1.StateCompleted, Path: firstPath})},
		wantOut:    "savepoint/orders-first created\nsavepoint/orders-first taken first at " + firstPath + "\nflinkapplication/orders redeploying from savepoint nightly (savepointRedeployNonce 1)\n",
		wantErrOut: []string{"TRIGGER_PENDING", "COMPLETED  " + firstPath},
		wantStart:  fromNightly, wantNonce: 1, wantFirstSp: cmfv1.StateCompleted,
	}, {
		name:        "--savepoint-first: a savepoint that fails stops the redeploy",
		parent:      application(running, nil),
		args:        []string{"-a", "orders", "--savepoint", "nightly", "--savepoint-first"},
		intercept:   first,
		changes:     []cmdtesting.Change{firstEnds(cmfv1.SavepointStatus{State: cmfv1.StateFailed, Failures: 1, Error: "checkpoint coordinator is shut down"})},
		wantOut:     "savepoint/orders-first created\n",
		wantErrOut:  []string{"TRIGGER_PENDING", "FAILED  (failures: 1) checkpoint coordinator is shut down"},
		wantErr:     "not redeployed: savepoint orders-first is FAILED: checkpoint coordinator is shut down",
		wantFirstSp: cmfv1.StateFailed,
	}, {
		name:       "--savepoint-first, no job: nothing to take",
		parent:     application(cmfv1.JobStatus{}, nil),
		args:       []string{"-a", "orders", "--savepoint", "nightly", "--savepoint-first"},
		wantOut:    "flinkapplication/orders redeploying from savepoint nightly (savepointRedeployNonce 1)\n",
		wantErrOut: []string{"application orders runs no job: no savepoint to take first"},
		wantStart:  fromNightly, wantNonce: 1,
	}, {
		name:       "--wait until the new job runs",
		parent:     application(cmfv1.JobStatus{}, nil),
		args:       []string{"-a", "orders", "--savepoint", "nightly", "--wait"},
		changes:    []cmdtesting.Change{runs},
		wantOut:    "flinkapplication/orders redeploying from savepoint nightly (savepointRedeployNonce 1)\nflinkapplication/orders running job e5f6 restored from " + nightlyPath + "\n",
		wantErrOut: []string{"RUNNING"},
		wantStart:  fromNightly, wantNonce: 1,
	}, {
		name:      "a conflict is met by reading again and counting from the nonce found",
		parent:    application(cmfv1.JobStatus{}, ptr.To[int64](1)),
		args:      []string{"-a", "orders", "--savepoint", "nightly"},
		intercept: anotherRedeployFirst(),
		wantOut:   "flinkapplication/orders redeploying from savepoint nightly (savepointRedeployNonce 8)\n",
		wantStart: fromNightly, wantNonce: 8,
	}, {
		name:    "no such parent",
		args:    []string{"-a", "orders", "--path", "s3://elsewhere"},
		wantErr: `flinkapplications.cmf.confluent.io "orders" not found`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs := savepoints()
			if tt.parent != nil {
				objs = append(objs, tt.parent)
			}
			f := cmdtesting.NewFactory(ns, objs...)
			f.Intercept = tt.intercept
			f.Later(t, tt.changes...)
			streams, _, out, errOut := genericiooptions.NewTestIOStreams()
			err := cmdtesting.Execute(NewCmd(f, streams), streams, tt.args...)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, out.String())
			assert.Equal(t, tt.wantErrOut, cmdtesting.Lines(errOut.String()))

			if tt.parent != nil {
				parent := tt.parent.DeepCopyObject().(cmfv1.Parent)
				require.NoError(t, f.Fake.Get(context.Background(), client.ObjectKeyFromObject(parent), parent))
				assert.Equal(t, tt.wantStart, parent.StartFrom())
				if tt.wantStart != nil {
					assert.Equal(t, tt.wantNonce, *parent.RedeployNonce())
				}
			}

			var taken cmfv1.SavepointList
			require.NoError(t, f.Fake.List(context.Background(), &taken, client.MatchingFields{"spec.application": "orders"}))
			var first []cmfv1.SavepointState
			for _, sp := range taken.Items {
				if sp.Name == "orders-first" {
					first = append(first, sp.Status.State)
				}
			}
			if tt.wantFirstSp == "" {
				assert.Empty(t, first, "no savepoint taken first")
			} else {
				assert.Equal(t, []cmfv1.SavepointState{tt.wantFirstSp}, first)
			}
		})
	}
}
