package webhook

import (
	"container/list"
	"sync"
)

// claim is the outcome of asking the deliveries set about an ID.
type claim int

const (
	claimed  claim = iota // the caller owns the delivery and must call done
	seen                  // the delivery was already handled successfully
	inFlight              // another request is handling the delivery right now
)

// deliveries remembers recent delivery IDs: a bounded LRU of IDs that were
// handled successfully, plus the set of IDs being handled right now. In-flight
// IDs are kept apart so that eviction never forgets a delivery that has not
// finished, and so that a failed delivery can be forgotten (GitHub's
// redelivery must be able to retry it).
type deliveries struct {
	mu     sync.Mutex
	max    int
	order  *list.List // of string; front is most recent
	done   map[string]*list.Element
	active map[string]struct{}
}

func newDeliveries(max int) *deliveries {
	return &deliveries{
		max:    max,
		order:  list.New(),
		done:   make(map[string]*list.Element),
		active: make(map[string]struct{}),
	}
}

// claim reports whether id may be handled by the caller.
func (d *deliveries) claim(id string) claim {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.done[id]; ok {
		d.order.MoveToFront(e)
		return seen
	}
	if _, ok := d.active[id]; ok {
		return inFlight
	}
	d.active[id] = struct{}{}
	return claimed
}

// finish releases a claimed id; when ok it is remembered as handled.
func (d *deliveries) finish(id string, ok bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.active, id)
	if !ok {
		return
	}
	d.done[id] = d.order.PushFront(id)
	for d.order.Len() > d.max {
		oldest := d.order.Back()
		d.order.Remove(oldest)
		delete(d.done, oldest.Value.(string))
	}
}

// len returns how many handled IDs are remembered.
func (d *deliveries) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order.Len()
}
