package cmdutil

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

// watchObject follows one object as kubectl wait does: it reads obj's key
// once, then lists and watches the objects of obj's kind selected by
// metadata.name, so that the server sends this object's changes and no
// other's. changed is called with each version read, gone when the object
// does not exist or is deleted; either ends the watch by returning true or
// an error. The watch ends with ctx.
func watchObject[T client.Object](ctx context.Context, c client.WithWatch, obj T, changed func(T) (bool, error), gone func() (bool, error)) error {
	key := client.ObjectKeyFromObject(obj)
	// A first read, as kubectl's does before it watches: an object that
	// is already where it should be needs no watch, and an error the
	// server will give every time (forbidden, not found) is told at once
	// instead of retried until the timeout.
	err := c.Get(ctx, key, obj)
	switch {
	case apierrors.IsNotFound(err):
		if done, err := gone(); done || err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if done, err := changed(obj); done || err != nil {
			return err
		}
	}

	lw, err := listWatchOne(c, obj)
	if err != nil {
		return err
	}
	precondition := func(store cache.Store) (bool, error) {
		if _, exists, err := store.GetByKey(key.String()); err != nil || exists {
			return false, err
		}
		return gone()
	}
	_, err = watchtools.UntilWithSync(ctx, lw, obj.DeepCopyObject(), precondition, func(e watch.Event) (bool, error) {
		// The server sends only this object; a client that does not
		// select by field (a unit test's fake) may send its neighbours.
		o, ok := e.Object.(T)
		if !ok || client.ObjectKeyFromObject(o) != key {
			return false, nil
		}
		switch e.Type {
		case watch.Added, watch.Modified:
			return changed(o)
		case watch.Deleted:
			return gone()
		}
		return false, nil
	})
	return err
}

// listWatchOne lists and watches the objects of obj's kind in its
// namespace whose metadata.name is obj's name.
func listWatchOne(c client.WithWatch, obj client.Object) (cache.ListerWatcher, error) {
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return nil, err
	}
	empty, err := c.Scheme().New(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", gvk.Kind, err)
	}
	newList := func() client.ObjectList { return empty.DeepCopyObject().(client.ObjectList) }
	selector := fields.OneTermEqualSelector("metadata.name", obj.GetName())
	options := func(raw metav1.ListOptions) *client.ListOptions {
		return &client.ListOptions{
			Namespace: obj.GetNamespace(), FieldSelector: selector,
			Limit: raw.Limit, Continue: raw.Continue, Raw: &raw,
		}
	}
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, raw metav1.ListOptions) (runtime.Object, error) {
			list := newList()
			return list, c.List(ctx, list, options(raw))
		},
		WatchFuncWithContext: func(ctx context.Context, raw metav1.ListOptions) (watch.Interface, error) {
			return c.Watch(ctx, newList(), options(raw))
		},
	}
	// A client that cannot stream the first list as watch events (a unit
	// test's fake) says so, and the informer lists first instead.
	return cache.ToListWatcherWithWatchListSemantics(lw, c), nil
}

// notFound is the API server's answer for obj's key, for a wait whose
// object is gone.
func notFound(c client.Client, obj client.Object) error {
	gvk, err := apiutil.GVKForObject(obj, c.Scheme())
	if err != nil {
		return err
	}
	resource, _ := meta.UnsafeGuessKindToResource(gvk)
	return apierrors.NewNotFound(resource.GroupResource(), obj.GetName())
}
