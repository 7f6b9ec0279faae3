// Package fairqueue is a controller work queue that is fair across keys
// (namespaces): each key has its own first-in-first-out queue, and the
// workers take from the keys in turn, so that however many items one
// namespace has queued, another namespace's next item waits for at most one
// item of each other namespace.
package fairqueue

import (
	"slices"
	"sync"
	"time"

	"k8s.io/client-go/util/workqueue"
)

// Queue is a workqueue.TypedRateLimitingInterface with the semantics of
// client-go's: an item is queued once however often it is added, is never
// handed to two workers at once (added while processed, it is queued again
// when Done), and AddAfter keeps only its earliest time.
type Queue[T comparable] struct {
	key     func(T) string
	limiter workqueue.TypedRateLimiter[T]

	mu         sync.Mutex
	cond       *sync.Cond
	queues     map[string][]T
	ring       []string // keys with queued items, in turn
	next       int      // the ring's next key
	length     int
	dirty      map[T]bool // queued, or to be queued again when Done
	processing map[T]bool
	waiting    map[T]time.Time // AddAfter's earliest time per item
	shutdown   bool
}

// New returns a queue fair across key(item), whose AddRateLimited waits as
// limiter says.
func New[T comparable](key func(T) string, limiter workqueue.TypedRateLimiter[T]) *Queue[T] {
	q := &Queue[T]{key: key, limiter: limiter, queues: map[string][]T{}, dirty: map[T]bool{}, processing: map[T]bool{}, waiting: map[T]time.Time{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// Add queues item, unless it is queued already.
func (q *Queue[T]) Add(item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutdown || q.dirty[item] {
		return
	}
	q.dirty[item] = true
	if q.processing[item] {
		return // queued again when Done
	}
	q.push(item)
}

func (q *Queue[T]) push(item T) {
	k := q.key(item)
	if len(q.queues[k]) == 0 {
		q.ring = append(q.ring, k)
	}
	q.queues[k] = append(q.queues[k], item)
	q.length++
	q.cond.Signal()
}

// Len is how many items are queued.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.length
}

// Get blocks until an item is queued, and hands out the next key's first
// item; shutdown is true once the queue is shut down and empty.
func (q *Queue[T]) Get() (item T, shutdown bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for q.length == 0 && !q.shutdown {
		q.cond.Wait()
	}
	if q.length == 0 {
		return item, true
	}
	if q.next >= len(q.ring) {
		q.next = 0
	}
	k := q.ring[q.next]
	items := q.queues[k]
	item = items[0]
	var zero T
	items[0] = zero
	if items = items[1:]; len(items) == 0 {
		delete(q.queues, k)
		q.ring = slices.Delete(q.ring, q.next, q.next+1) // next now names the key after it
	} else {
		q.queues[k] = items
		q.next++
	}
	q.length--
	q.processing[item] = true
	delete(q.dirty, item)
	return item, false
}

// Done marks item processed; added meanwhile, it is queued again.
func (q *Queue[T]) Done(item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, item)
	if q.dirty[item] {
		q.push(item)
	}
	if len(q.processing) == 0 {
		q.cond.Broadcast() // ShutDownWithDrain waits for this
	}
}

// ShutDown makes Get return once the queue is empty, and ignores Adds.
func (q *Queue[T]) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	q.cond.Broadcast()
}

// ShutDownWithDrain is ShutDown, then waits until no item is processed.
func (q *Queue[T]) ShutDownWithDrain() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.shutdown = true
	q.cond.Broadcast()
	for len(q.processing) > 0 {
		q.cond.Wait()
	}
}

// ShuttingDown reports whether ShutDown was called.
func (q *Queue[T]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shutdown
}

// AddAfter adds item after d, or at once when d ≤ 0. Of several waits of
// one item, the earliest counts.
func (q *Queue[T]) AddAfter(item T, d time.Duration) {
	if d <= 0 {
		q.Add(item)
		return
	}
	at := time.Now().Add(d)
	q.mu.Lock()
	if q.shutdown {
		q.mu.Unlock()
		return
	}
	if earlier, ok := q.waiting[item]; ok && !earlier.After(at) {
		q.mu.Unlock()
		return
	}
	q.waiting[item] = at
	q.mu.Unlock()
	time.AfterFunc(d, func() {
		q.mu.Lock()
		due := q.waiting[item].Equal(at)
		if due {
			delete(q.waiting, item)
		}
		q.mu.Unlock()
		if due {
			q.Add(item)
		}
	})
}

// AddRateLimited adds item after the limiter's wait.
func (q *Queue[T]) AddRateLimited(item T) { q.AddAfter(item, q.limiter.When(item)) }

// Forget resets item's rate limiting.
func (q *Queue[T]) Forget(item T) { q.limiter.Forget(item) }

// NumRequeues is how often item was rate limited since it was forgotten.
func (q *Queue[T]) NumRequeues(item T) int { return q.limiter.NumRequeues(item) }

var _ workqueue.TypedRateLimitingInterface[string] = (*Queue[string])(nil)
