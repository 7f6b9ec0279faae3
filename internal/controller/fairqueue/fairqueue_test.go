package fairqueue

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/util/workqueue"
)

func namespaceOf(item string) string { ns, _, _ := strings.Cut(item, "/"); return ns }

func newQueue() *Queue[string] {
	return New(namespaceOf, workqueue.DefaultTypedControllerRateLimiter[string]())
}

func get(t *testing.T, q *Queue[string]) string {
	t.Helper()
	item, shutdown := q.Get()
	require.False(t, shutdown)
	return item
}

// TestFairAcrossKeys: a namespace's backlog delays another namespace's item
// by at most one item.
func TestFairAcrossKeys(t *testing.T) {
	q := newQueue()
	for i := range 1000 {
		q.Add(fmt.Sprintf("dead/%d", i))
	}
	q.Add("healthy/sp")
	q.Add("other/sp")
	assert.Equal(t, 1002, q.Len())
	var order []string
	for range 4 {
		item := get(t, q)
		order = append(order, item)
		q.Done(item)
	}
	assert.Equal(t, []string{"dead/0", "healthy/sp", "other/sp", "dead/1"}, order)
}

// TestOnceAndNeverTwice: an item is queued once however often it is added,
// and one that is added while processed is handed out again only when Done.
func TestOnceAndNeverTwice(t *testing.T) {
	q := newQueue()
	q.Add("a/x")
	q.Add("a/x")
	assert.Equal(t, 1, q.Len())
	item := get(t, q)
	q.Add("a/x")
	assert.Zero(t, q.Len(), "not queued while processed")
	q.Done(item)
	assert.Equal(t, 1, q.Len(), "queued again once done")
	assert.Equal(t, "a/x", get(t, q))
}

// TestAddAfterEarliest: of two waits, the earliest counts; a later one adds
// nothing more.
func TestAddAfterEarliest(t *testing.T) {
	q := newQueue()
	q.AddAfter("a/x", time.Hour)
	q.AddAfter("a/x", 20*time.Millisecond)
	q.AddAfter("a/x", time.Hour)
	start := time.Now()
	item := get(t, q)
	assert.Equal(t, "a/x", item)
	assert.Less(t, time.Since(start), 30*time.Minute)
	q.Done(item)
	assert.Zero(t, q.Len())
}

// TestShutDown: Get returns shutdown once the queue is shut down and empty.
func TestShutDown(t *testing.T) {
	q := newQueue()
	q.Add("a/x")
	q.ShutDown()
	assert.True(t, q.ShuttingDown())
	assert.Equal(t, "a/x", get(t, q), "what was queued is still handed out")
	_, shutdown := q.Get()
	assert.True(t, shutdown)
}
