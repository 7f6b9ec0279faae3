package session

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
	"github.com/kubectl-savepoint/kubectl-savepoint/internal/controller/flinkop"
)

// specHash identifies the parts of a spec that shape a job.
func specHash(parts ...any) string {
	data, _ := json.Marshal(parts)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// sessionKind is what differs between the kinds that run on a pool: what
// the spec asks for, how the job is deployed, how the status spells it.
type sessionKind interface {
	// read sees a parent of the kind; false when it does not run on a pool.
	read(obj cmfv1.Parent) (*sessionParent, bool)
	// deploy submits the job under jobID, restored from path from when set.
	deploy(ctx context.Context, r *reconciler, p *sessionParent, pool *cmfv1.ComputePool, fc *flink.Client, jobID, from string) error
	// setPhase spells a generic phase the kind's way into its status.
	setPhase(obj cmfv1.Parent, generic string)
	setError(obj cmfv1.Parent, msg string)
	setObservedGeneration(obj cmfv1.Parent)
}

// readSessionParent sees obj as a session-mode parent of its kind.
func readSessionParent(obj cmfv1.Parent, jobs sessionKind) (*sessionParent, bool) {
	p, ok := jobs.read(obj)
	if !ok {
		return nil, false
	}
	p.obj, p.kind, p.jobs, p.pool = obj, obj.ParentKind(), jobs, obj.ComputePool()
	p.job, p.conditions = obj.ObservedJob(), obj.StatusConditions()
	p.startFrom, p.nonce, p.configs = obj.StartFrom(), obj.RedeployNonce(), obj.FlinkConfigurations()
	return p, true
}

// applicationJobs runs FlinkApplications that name a ComputePool: a jar.
type applicationJobs struct{}

func (applicationJobs) read(obj cmfv1.Parent) (*sessionParent, bool) {
	app := obj.(*cmfv1.FlinkApplication)
	if app.Spec.ComputePoolName == "" {
		return nil, false // operator mode
	}
	job := app.Spec.Job
	if job == nil {
		job = &cmfv1.JobSpec{}
	}
	return &sessionParent{
		running: job.State != cmfv1.JobSuspended,
		// What a redeploy must pick up; not the state, the nonce or where a
		// first deploy starts from.
		spec:             specHash(job.JarURI, job.EntryClass, job.Args, job.Parallelism, app.Spec.FlinkConfiguration),
		stateless:        job.UpgradeMode == cmfv1.UpgradeStateless,
		initialPath:      job.InitialSavepointPath,
		allowNonRestored: job.AllowNonRestoredState != nil && *job.AllowNonRestoredState,
	}, true
}

func (applicationJobs) deploy(ctx context.Context, r *reconciler, p *sessionParent, _ *cmfv1.ComputePool, fc *flink.Client, jobID, from string) error {
	job := p.obj.(*cmfv1.FlinkApplication).Spec.Job
	if job == nil {
		job = &cmfv1.JobSpec{}
	}
	return r.runJar(ctx, p, job, fc, jobID, from)
}

func (applicationJobs) setPhase(obj cmfv1.Parent, phase string) {
	obj.(*cmfv1.FlinkApplication).Status.LifecycleState = phase
}

func (applicationJobs) setError(obj cmfv1.Parent, msg string) {
	obj.(*cmfv1.FlinkApplication).Status.Error = msg
}

func (applicationJobs) setObservedGeneration(obj cmfv1.Parent) {
	obj.(*cmfv1.FlinkApplication).Status.ObservedGeneration = obj.GetGeneration()
}

// runJar uploads the application's jar, unless the pool has the same
// content already, and runs it.
func (r *reconciler) runJar(ctx context.Context, p *sessionParent, job *cmfv1.JobSpec, fc *flink.Client, jobID, from string) error {
	if job.JarURI == "" {
		return errors.New("spec.job.jarURI is empty: set the job's jar (file:// on the manager, or http(s)://)")
	}
	file, sum, err := r.jars.fetch(ctx, p.obj.GetNamespace(), job.JarURI)
	if err != nil {
		return fmt.Errorf("spec.job.jarURI: %w", err)
	}
	st := p.session() // no status write until the deploy returns
	upload := func() error {
		id, err := fc.UploadJar(ctx, file)
		if err != nil {
			return err
		}
		st.JarURI, st.JarSHA256, st.JarID = job.JarURI, sum, id
		return nil
	}
	if st.JarSHA256 != sum || st.JarID == "" || !r.jarPresent(ctx, fc, st.JarID) {
		if err := upload(); err != nil {
			return err
		}
	}
	req := flink.RunRequest{
		EntryClass: job.EntryClass, Args: job.Args, JobID: jobID,
		SavepointPath: from, AllowNonRestoredState: p.allowNonRestored,
	}
	if job.Parallelism != nil {
		req.Parallelism = *job.Parallelism
	}
	_, err = fc.RunJar(ctx, st.JarID, req)
	if errors.Is(err, flink.ErrJarNotFound) {
		// The pool lost it since (a JobManager restart empties its uploads).
		if err := upload(); err != nil {
			return err
		}
		_, err = fc.RunJar(ctx, st.JarID, req)
	}
	return err
}

func (r *reconciler) jarPresent(ctx context.Context, fc *flink.Client, id string) bool {
	ids, err := fc.JarIDs(ctx)
	if err != nil {
		return false
	}
	for _, have := range ids {
		if have == id {
			return true
		}
	}
	return false
}

// statementJobs runs Statements, every one on its pool: SQL through the
// pool's SQL Gateway.
type statementJobs struct{}

func (statementJobs) read(obj cmfv1.Parent) (*sessionParent, bool) {
	stmt := obj.(*cmfv1.Statement)
	if stmt.Spec.ComputePoolName == "" {
		return nil, false
	}
	return &sessionParent{
		running: !stmt.Spec.Stopped,
		spec:    specHash(stmt.Spec.Statement, stmt.Spec.Properties, stmt.Spec.FlinkConfiguration, stmt.Spec.Parallelism),
	}, true
}

func (statementJobs) deploy(ctx context.Context, r *reconciler, p *sessionParent, pool *cmfv1.ComputePool, _ *flink.Client, jobID, from string) error {
	return r.runSQL(ctx, p, p.obj.(*cmfv1.Statement), pool, jobID, from)
}

func (statementJobs) setPhase(obj cmfv1.Parent, phase string) {
	obj.(*cmfv1.Statement).Status.Phase = statementPhase(phase)
}

func (statementJobs) setError(obj cmfv1.Parent, msg string) {
	obj.(*cmfv1.Statement).Status.Error = msg
}

func (statementJobs) setObservedGeneration(obj cmfv1.Parent) {
	obj.(*cmfv1.Statement).Status.ObservedGeneration = obj.GetGeneration()
}

// statementPhase spells a generic phase the way a Statement's phase reads.
func statementPhase(generic string) string {
	switch generic {
	case phaseDeploying, phaseWaiting:
		return "PENDING"
	case phaseStopping, phaseUpgrading:
		return "STOPPING"
	case phaseSuspended:
		return "STOPPED"
	case phaseFinished:
		return "COMPLETED"
	}
	return generic
}

// runSQL runs the statement through the pool's SQL Gateway: the statements
// before the last (DDL such as CREATE TEMPORARY TABLE) in one session, the
// last one as the job, under the chosen job ID.
func (r *reconciler) runSQL(ctx context.Context, p *sessionParent, stmt *cmfv1.Statement, pool *cmfv1.ComputePool, jobID, from string) error {
	if pool.Spec.SQLGatewayURL == "" {
		return fmt.Errorf("ComputePool %s has no spec.sqlGatewayURL: a Statement runs through its pool's SQL Gateway; set it on the pool", pool.Name)
	}
	gw, err := r.flink.SQLGateway(pool.Namespace, pool.Spec.SQLGatewayURL)
	if err != nil {
		return fmt.Errorf("ComputePool %s: spec.sqlGatewayURL: %w", pool.Name, err)
	}
	statements := flink.SplitStatements(stmt.Spec.Statement)
	if len(statements) == 0 {
		return errors.New("spec.statement is empty: write the SQL to run, e.g. INSERT INTO … SELECT …")
	}
	properties := map[string]string{}
	for _, m := range []map[string]string{stmt.Spec.FlinkConfiguration, stmt.Spec.Properties} {
		for k, v := range m {
			properties[k] = v
		}
	}
	if stmt.Spec.Parallelism != nil {
		properties["parallelism.default"] = strconv.Itoa(int(*stmt.Spec.Parallelism))
	}
	session, err := gw.OpenSession(ctx, properties)
	if err != nil {
		return err
	}
	defer func() { _ = gw.CloseSession(context.WithoutCancel(ctx), session) }()
	for i, s := range statements[:len(statements)-1] {
		if _, err := gw.Run(ctx, session, s, nil); err != nil {
			return fmt.Errorf("spec.statement, statement %d (%s): %s", i+1, abbreviate(s), flinkop.Message(err))
		}
	}
	config := map[string]string{
		"pipeline.name": stmt.Name,
		// Fixes the job's ID, so a repeated submit is refused as a duplicate.
		"$internal.pipeline.job-id": jobID,
	}
	if from != "" {
		config["execution.savepoint.path"] = from
		if p.allowNonRestored {
			config["execution.savepoint.ignore-unclaimed-state"] = "true"
		}
	}
	last := statements[len(statements)-1]
	result, err := gw.Run(ctx, session, last, config)
	if err != nil {
		if errors.Is(err, flink.ErrUnreachable) {
			return err
		}
		return fmt.Errorf("spec.statement (%s): %s", abbreviate(last), flinkop.Message(err))
	}
	if result.JobID == "" {
		return fmt.Errorf("spec.statement: its last statement (%s) started no job: a Statement runs one INSERT INTO … SELECT … (or EXECUTE STATEMENT SET)", abbreviate(last))
	}
	if result.JobID != jobID {
		p.job.JobID = result.JobID // the gateway chose another; report the truth
	}
	return nil
}

func abbreviate(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
