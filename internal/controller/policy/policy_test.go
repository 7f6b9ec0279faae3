package policy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/apimachinery/pkg/util/validation"
)

func TestSlotName(t *testing.T) {
	slot := time.Date(2026, 12, 2, 2, 0, 0, 0, time.UTC)
	long := strings.Repeat("a", 200)
	dotted := strings.Repeat("b", 150) + "." + strings.Repeat("c", 100)
	for _, tc := range []struct {
		name, parent, policy string
		slot                 time.Time
		want                 string
	}{
		{"short", "orders", "nightly", slot, "orders-nightly-1796176800"},
		{"no slot", "orders", "nightly-run-0a1b2c3d", time.Time{}, "orders-nightly-run-0a1b2c3d"},
		{"long names are cut and hashed", long, long, slot, ""},
		{"a cut never ends a label with a dot", dotted, "p", slot, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := SlotName(tc.parent, tc.policy, tc.slot)
			assert.Empty(t, validation.IsDNS1123Subdomain(got), got)
			if tc.want != "" {
				assert.Equal(t, tc.want, got)
			}
			assert.Equal(t, got, SlotName(tc.parent, tc.policy, tc.slot), "deterministic")
			if !tc.slot.IsZero() {
				assert.True(t, strings.HasSuffix(got, "-1796176800"), "the slot is always in the name: %s", got)
				assert.NotEqual(t, got, SlotName(tc.parent, tc.policy, tc.slot.Add(time.Second)), "another slot, another name")
			}
		})
	}
	assert.NotEqual(t, SlotName(long+"x", long, slot), SlotName(long+"y", long, slot), "cut names of different parents differ")
}

func TestLabelValue(t *testing.T) {
	for _, name := range []string{"nightly", strings.Repeat("p", 63), strings.Repeat("p", 64), strings.Repeat("a.", 100) + "z"} {
		got := LabelValue(name)
		assert.Empty(t, validation.IsValidLabelValue(got), got)
		if len(name) <= 63 {
			assert.Equal(t, name, got)
		}
	}
	assert.NotEqual(t, LabelValue(strings.Repeat("p", 64)), LabelValue(strings.Repeat("p", 65)))
}
