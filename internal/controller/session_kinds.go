package controller

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
	"github.com/kubectl-savepoint/kubectl-savepoint/flink"
)

// specHash identifies the parts of a spec that shape a job.
func specHash(parts ...any) string {
	data, _ := json.Marshal(parts)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// adaptApplication sees a FlinkApplication that names a ComputePool.
func adaptApplication(obj client.Object) (*sessionParent, bool) {
	app := obj.(*cmfv1.FlinkApplication)
	if app.Spec.ComputePoolName == "" {
		return nil, false // operator mode
	}
	job := app.Spec.Job
	if job == nil {
		job = &cmfv1.JobSpec{}
	}
	p := &sessionParent{
		obj: app, kind: cmfv1.ParentApplication, pool: app.Spec.ComputePoolName,
		running: job.State != cmfv1.JobSuspended,
		// What a redeploy must pick up; not the state, the nonce or where a
		// first deploy starts from.
		spec:        specHash(job.JarURI, job.EntryClass, job.Args, job.Parallelism, app.Spec.FlinkConfiguration),
		nonce:       job.SavepointRedeployNonce,
		stateless:   job.UpgradeMode == cmfv1.UpgradeStateless,
		startFrom:   job.StartFromSavepoint,
		initialPath: job.InitialSavepointPath,
		configs:     []map[string]string{app.Spec.FlinkConfiguration},
		session: func() *cmfv1.SessionStatus {
			if app.Status.Session == nil {
				app.Status.Session = &cmfv1.SessionStatus{}
			}
			return app.Status.Session
		},
		job:        &app.Status.JobStatus,
		conditions: &app.Status.Conditions,
		phase:      func(phase string) { app.Status.LifecycleState = phase },
		setError:   func(msg string) { app.Status.Error = msg },
		observed:   &app.Status.ObservedGeneration,
	}
	p.allowNonRestored = job.AllowNonRestoredState != nil && *job.AllowNonRestoredState
	p.deploy = func(ctx context.Context, r *sessionReconciler, _ *cmfv1.ComputePool, fc *flink.Client, jobID, from string) error {
		return r.runJar(ctx, p, job, fc, jobID, from)
	}
	return p, true
}

// runJar uploads the application's jar, unless the pool has the same
// content already, and runs it.
func (r *sessionReconciler) runJar(ctx context.Context, p *sessionParent, job *cmfv1.JobSpec, fc *flink.Client, jobID, from string) error {
	if job.JarURI == "" {
		return errors.New("spec.job.jarURI is empty: set the job's jar (file:// on the manager, or http(s)://)")
	}
	file, sum, err := r.jars.fetch(ctx, job.JarURI)
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

func (r *sessionReconciler) jarPresent(ctx context.Context, fc *flink.Client, id string) bool {
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

// adaptStatement sees a Statement; every Statement runs on its pool.
func adaptStatement(obj client.Object) (*sessionParent, bool) {
	stmt := obj.(*cmfv1.Statement)
	if stmt.Spec.ComputePoolName == "" {
		return nil, false
	}
	p := &sessionParent{
		obj: stmt, kind: cmfv1.ParentStatement, pool: stmt.Spec.ComputePoolName,
		running:   !stmt.Spec.Stopped,
		spec:      specHash(stmt.Spec.Statement, stmt.Spec.Properties, stmt.Spec.FlinkConfiguration, stmt.Spec.Parallelism),
		nonce:     stmt.Spec.SavepointRedeployNonce,
		startFrom: stmt.Spec.StartFromSavepoint,
		configs:   []map[string]string{stmt.Spec.FlinkConfiguration, stmt.Spec.Properties},
		session: func() *cmfv1.SessionStatus {
			if stmt.Status.Session == nil {
				stmt.Status.Session = &cmfv1.SessionStatus{}
			}
			return stmt.Status.Session
		},
		job:        &stmt.Status.JobStatus,
		conditions: &stmt.Status.Conditions,
		phase:      func(phase string) { stmt.Status.Phase = statementPhase(phase) },
		setError:   func(msg string) { stmt.Status.Error = msg },
		observed:   &stmt.Status.ObservedGeneration,
	}
	p.deploy = func(ctx context.Context, r *sessionReconciler, pool *cmfv1.ComputePool, _ *flink.Client, jobID, from string) error {
		return r.runSQL(ctx, p, stmt, pool, jobID, from)
	}
	return p, true
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
func (r *sessionReconciler) runSQL(ctx context.Context, p *sessionParent, stmt *cmfv1.Statement, pool *cmfv1.ComputePool, jobID, from string) error {
	if pool.Spec.SQLGatewayURL == "" {
		return fmt.Errorf("ComputePool %s has no spec.sqlGatewayURL: a Statement runs through its pool's SQL Gateway; set it on the pool", pool.Name)
	}
	gw, err := flink.NewSQLGateway(pool.Spec.SQLGatewayURL, r.opts.Flink)
	if err != nil {
		return fmt.Errorf("ComputePool %s: spec.sqlGatewayURL: %w", pool.Name, err)
	}
	statements := splitStatements(stmt.Spec.Statement)
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
			return fmt.Errorf("spec.statement, statement %d (%s): %s", i+1, abbreviate(s), oneLine(err))
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
		return fmt.Errorf("spec.statement (%s): %s", abbreviate(last), oneLine(err))
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

// splitStatements splits SQL at the semicolons that end statements: not
// those in quotes, identifiers or comments.
func splitStatements(sql string) []string {
	var out []string
	var b strings.Builder
	flush := func() {
		if s := strings.TrimSpace(b.String()); s != "" {
			out = append(out, s)
		}
		b.Reset()
	}
	for i := 0; i < len(sql); i++ {
		c := sql[i]
		switch {
		case c == '\'' || c == '"' || c == '`':
			end := i + 1
			for end < len(sql) {
				if sql[end] == c {
					if end+1 < len(sql) && sql[end+1] == c { // a doubled quote is a quote
						end += 2
						continue
					}
					break
				}
				end++
			}
			end = min(end, len(sql)-1)
			b.WriteString(sql[i : end+1])
			i = end
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			end := strings.IndexByte(sql[i:], '\n')
			if end < 0 {
				i = len(sql)
			} else {
				i += end
				b.WriteByte('\n')
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			end := strings.Index(sql[i+2:], "*/")
			if end < 0 {
				i = len(sql)
			} else {
				i += end + 3
				b.WriteByte(' ')
			}
		case c == ';':
			flush()
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return out
}
