package webhook

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// publish puts bundle into the caBundle of every webhook of both webhook
// configurations (keeping a newer CA another replica published, see
// publishedBundle) and reads them back from the API server, until every
// caBundle carries the CAs in use. It says whether every caBundle carried
// them already, before anything was written.
func (r *certRotation) publish(ctx context.Context, bundle, inUse []*x509.Certificate, now time.Time) (carried bool, err error) {
	carries := func(caBundle []byte) bool {
		current := parseBundle(caBundle)
		for _, ca := range inUse {
			if !containsCA(current, ca) {
				return false
			}
		}
		return true
	}
	carried = true
	for _, config := range r.webhookConfigs() {
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			obj := config()
			if err := r.api.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
				return err
			}
			changed := false
			for _, caBundle := range caBundlesOf(obj) {
				carried = carried && carries(*caBundle)
				if want := encodeBundle(publishedBundle(bundle, parseBundle(*caBundle), now)); !bytes.Equal(*caBundle, want) {
					*caBundle, changed = want, true
				}
			}
			if !changed {
				return nil
			}
			return r.writer.Update(ctx, obj)
		})
		obj := config()
		if err != nil {
			return false, fmt.Errorf("put the caBundle into %T %s: %w", obj, obj.GetName(), err)
		}
		if err := r.api.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return false, fmt.Errorf("read back %T %s: %w", obj, obj.GetName(), err)
		}
		for _, caBundle := range caBundlesOf(obj) {
			if !carries(*caBundle) {
				return false, fmt.Errorf("a caBundle of %T %s lost a CA in use right after it was written", obj, obj.GetName())
			}
		}
	}
	return carried, nil
}

// webhookConfigs make empty objects of the two webhook configurations,
// named, to be read.
func (r *certRotation) webhookConfigs() []func() client.Object {
	return []func() client.Object{
		func() client.Object {
			c := &admissionregistrationv1.MutatingWebhookConfiguration{}
			c.Name = r.opts.MutatingConfig
			return c
		},
		func() client.Object {
			c := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			c.Name = r.opts.ValidatingConfig
			return c
		},
	}
}

// caBundlesOf points at the caBundle of every webhook of a webhook
// configuration.
func caBundlesOf(obj client.Object) []*[]byte {
	var bundles []*[]byte
	switch c := obj.(type) {
	case *admissionregistrationv1.MutatingWebhookConfiguration:
		for i := range c.Webhooks {
			bundles = append(bundles, &c.Webhooks[i].ClientConfig.CABundle)
		}
	case *admissionregistrationv1.ValidatingWebhookConfiguration:
		for i := range c.Webhooks {
			bundles = append(bundles, &c.Webhooks[i].ClientConfig.CABundle)
		}
	}
	return bundles
}
