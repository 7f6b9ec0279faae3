package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	cmfv1 "github.com/kubectl-savepoint/kubectl-savepoint/api/v1"
)

// ClaimLabel marks the Leases that claim DetachedSavepoint names.
const ClaimLabel = "cmf.confluent.io/detachedsavepoint-claim"

// claimNameAnnotation holds the claimed name when the Lease's own name is a hash.
const claimNameAnnotation = "cmf.confluent.io/detachedsavepoint-name"

// claims makes DetachedSavepoint names unique across namespaces without a
// race: the API server's create of a Lease named after the DetachedSavepoint
// succeeds once, whoever asks concurrently. The Lease names its holder
// ("namespace/name"); it is released once that DetachedSavepoint is gone.
type claims struct {
	client    client.Client
	live      client.Reader
	informers cache.Informers
	opts      Options
}

// claimDenied is a claim held by another DetachedSavepoint.
type claimDenied struct {
	name      string
	namespace string        // the holder's
	retry     time.Duration // non-zero while the holder's create may still be on its way
}

func (d *claimDenied) Error() string { return d.message("namespace " + d.namespace) }

// message words the denial with where the holder is: "namespace NAME", or
// "another namespace" for a requester who may not read it there.
func (d *claimDenied) message(where string) string {
	if d.retry != 0 {
		return fmt.Sprintf("DetachedSavepoint %s: metadata.name %q is being created in %s right now (names are unique across all namespaces): choose another name, or retry in %s",
			d.name, d.name, where, d.retry)
	}
	return fmt.Sprintf("DetachedSavepoint %s: metadata.name %q is taken by the DetachedSavepoint in %s (names are unique across all namespaces): choose another name",
		d.name, d.name, where)
}

// leaseName is the Lease that claims a DetachedSavepoint name.
func leaseName(name string) string {
	if candidate := "dsp." + name; len(candidate) <= validation.DNS1123SubdomainMaxLength {
		return candidate
	}
	sum := sha256.Sum256([]byte(name))
	return "dsp.sha256." + hex.EncodeToString(sum[:])
}

func holderOf(namespace, name string) string { return namespace + "/" + name }

// errClaimReleased: the claim that made a create fail was released before
// it could be read (its DetachedSavepoint had just been deleted).
var errClaimReleased = errors.New("the claim was released meanwhile")

// claim takes the name for namespace/name, or says who holds it. On dry-run
// it only checks. A claim released between the create that found it and
// the read of it (a name imported again right after its delete) is
// claimed again.
func (c *claims) claim(ctx context.Context, namespace, name string, dryRun bool) error {
	for attempt := 1; ; attempt++ {
		err := c.claimOnce(ctx, namespace, name, dryRun)
		if !errors.Is(err, errClaimReleased) || attempt == 3 {
			return err
		}
	}
}

func (c *claims) claimOnce(ctx context.Context, namespace, name string, dryRun bool) error {
	holder := holderOf(namespace, name)
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: c.opts.ClaimNamespace, Name: leaseName(name),
			Labels:      map[string]string{ClaimLabel: "true"},
			Annotations: map[string]string{claimNameAnnotation: name},
		},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, AcquireTime: &metav1.MicroTime{Time: c.opts.Now()}},
	}
	if !dryRun {
		err := c.client.Create(ctx, lease)
		if err == nil {
			return nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("claim DetachedSavepoint name %s: %w", name, err)
		}
	}

	var held coordinationv1.Lease
	err := c.live.Get(ctx, client.ObjectKeyFromObject(lease), &held)
	if apierrors.IsNotFound(err) && dryRun {
		return nil
	}
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("claim DetachedSavepoint name %s: %w; retry", name, errClaimReleased)
	}
	if err != nil {
		return fmt.Errorf("read the claim on DetachedSavepoint name %s: %w", name, err)
	}
	current := ""
	if held.Spec.HolderIdentity != nil {
		current = *held.Spec.HolderIdentity
	}
	if current == holder {
		return nil // a retry of the same create
	}
	heldNamespace, heldName, _ := strings.Cut(current, "/")
	exists, err := c.detachedExists(ctx, heldNamespace, heldName)
	if err != nil {
		return err
	}
	taken := &claimDenied{name: name, namespace: heldNamespace}
	if exists {
		return taken
	}
	if acquired := held.Spec.AcquireTime; acquired != nil && c.opts.Now().Sub(acquired.Time) < c.opts.ClaimGrace {
		// Its create may still be on its way to storage.
		return &claimDenied{name: name, namespace: heldNamespace, retry: c.opts.ClaimGrace.Round(time.Second)}
	}
	if dryRun {
		return nil
	}
	// An orphaned claim (its create failed after admission): take it over,
	// atomically, through the Lease's resourceVersion.
	held.Spec.HolderIdentity = &holder
	held.Spec.AcquireTime = &metav1.MicroTime{Time: c.opts.Now()}
	if err := c.client.Update(ctx, &held); err != nil {
		if apierrors.IsConflict(err) {
			return taken
		}
		return fmt.Errorf("take over the orphaned claim on DetachedSavepoint name %s: %w", name, err)
	}
	return nil
}

// detachedExists says whether namespace/name exists: the cache answers
// "yes" (a claim is kept, or a name refused, a moment longer at worst); a
// "no" is read again from the API server, which may have a create the cache
// has not seen yet, before any claim is released or taken over.
func (c *claims) detachedExists(ctx context.Context, namespace, name string) (bool, error) {
	if namespace == "" || name == "" {
		return false, nil
	}
	key := client.ObjectKey{Namespace: namespace, Name: name}
	switch err := c.client.Get(ctx, key, &cmfv1.DetachedSavepoint{}); {
	case err == nil:
		return true, nil
	case !apierrors.IsNotFound(err):
		return false, err
	}
	err := c.live.Get(ctx, key, &cmfv1.DetachedSavepoint{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// releaseWorkers is how many claims of deleted DetachedSavepoints are
// released at once (a namespace deletion deletes thousands together).
const releaseWorkers = 8

// Start sweeps orphaned claims (their DetachedSavepoint deleted, or its
// create failed after admission) until ctx ends. It runs on every replica;
// deletes are conditional, so replicas do not fight.
func (c *claims) Start(ctx context.Context) error {
	if c.informers != nil {
		// Release a claim as soon as its DetachedSavepoint is deleted, by a
		// few workers: the informer's handler only queues.
		deleted := workqueue.NewTyped[client.ObjectKey]()
		defer deleted.ShutDown()
		for range releaseWorkers {
			go func() {
				for {
					key, shutdown := deleted.Get()
					if shutdown {
						return
					}
					c.releaseDeleted(ctx, key.Namespace, key.Name)
					deleted.Done(key)
				}
			}()
		}
		informer, err := c.informers.GetInformer(ctx, &cmfv1.DetachedSavepoint{})
		if err != nil {
			return fmt.Errorf("watch DetachedSavepoints: %w", err)
		}
		if _, err := informer.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			DeleteFunc: func(obj any) {
				if tombstone, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
					obj = tombstone.Obj
				}
				if dsp, ok := obj.(*cmfv1.DetachedSavepoint); ok {
					deleted.Add(client.ObjectKeyFromObject(dsp))
				}
			},
		}); err != nil {
			return fmt.Errorf("watch DetachedSavepoints: %w", err)
		}
	}
	ticker := time.NewTicker(c.opts.ClaimSweepInterval)
	defer ticker.Stop()
	for {
		if err := c.sweep(ctx); err != nil && ctx.Err() == nil {
			logf.FromContext(ctx).Error(err, "sweep DetachedSavepoint name claims")
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

// sweepPage is how many claims one sweep reads at a time.
const sweepPage = 500

// sweep deletes the claims whose holder does not exist, once past the
// grace. It reads the claims a page at a time and their holders from the
// cache: the API server is asked about a holder only before its claim is
// released.
func (c *claims) sweep(ctx context.Context) error {
	cont := ""
	for {
		var leases coordinationv1.LeaseList
		if err := c.live.List(ctx, &leases, client.InNamespace(c.opts.ClaimNamespace), client.HasLabels{ClaimLabel},
			client.Limit(sweepPage), client.Continue(cont)); err != nil {
			return err
		}
		for i := range leases.Items {
			if err := c.release(ctx, &leases.Items[i]); err != nil {
				return err
			}
		}
		if cont = leases.Continue; cont == "" {
			return nil
		}
	}
}

// release deletes one claim if its holder is gone and the grace has passed.
func (c *claims) release(ctx context.Context, lease *coordinationv1.Lease) error {
	if lease.Spec.HolderIdentity == nil {
		return nil
	}
	namespace, name, _ := strings.Cut(*lease.Spec.HolderIdentity, "/")
	if acquired := lease.Spec.AcquireTime; acquired != nil && c.opts.Now().Sub(acquired.Time) < c.opts.ClaimGrace {
		return nil
	}
	exists, err := c.detachedExists(ctx, namespace, name)
	if err != nil || exists {
		return err
	}
	err = c.client.Delete(ctx, lease, client.Preconditions{ResourceVersion: &lease.ResourceVersion})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// releaseDeleted deletes the claim of the DetachedSavepoint namespace/name,
// which was deleted, if it still names it.
func (c *claims) releaseDeleted(ctx context.Context, namespace, name string) {
	var lease coordinationv1.Lease
	key := client.ObjectKey{Namespace: c.opts.ClaimNamespace, Name: leaseName(name)}
	if err := c.live.Get(ctx, key, &lease); err != nil {
		return
	}
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != holderOf(namespace, name) {
		return
	}
	exists, err := c.detachedExists(ctx, namespace, name)
	if err != nil || exists {
		return // re-created with the same name: still claimed
	}
	err = c.client.Delete(ctx, &lease, client.Preconditions{ResourceVersion: &lease.ResourceVersion})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		logf.FromContext(ctx).Error(err, "release DetachedSavepoint name claim", "name", name)
	}
}

// NeedLeaderElection: every replica sweeps; it is idempotent.
func (c *claims) NeedLeaderElection() bool { return false }
