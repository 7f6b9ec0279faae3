package webhook

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDecisions: an allowing review is remembered for allowedTTL, per
// question, and no more than maxDecisions of them.
func TestDecisions(t *testing.T) {
	now := time.Now()
	var d decisions
	assert.False(t, d.allowed("alice may get x", now), "nothing remembered yet")
	d.remember("alice may get x", now)
	assert.True(t, d.allowed("alice may get x", now.Add(allowedTTL-time.Millisecond)))
	assert.False(t, d.allowed("bob may get x", now), "per user and question")
	assert.False(t, d.allowed("alice may get x", now.Add(allowedTTL+time.Millisecond)), "forgotten after the TTL")
	assert.False(t, d.allowed("alice may get x", now), "and gone")

	for i := range maxDecisions + 10 {
		d.remember(fmt.Sprint(i), now)
	}
	assert.LessOrEqual(t, len(d.expires), maxDecisions)
}
