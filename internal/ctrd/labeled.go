package ctrd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/containerd/containerd/v2/core/snapshots"
)

// Labeled is one object in the namespace that carries a label.
type Labeled struct {
	Kind  string // container, snapshot or lease
	ID    string
	Value string // the label's value
}

// ListLabeled lists every container, snapshot and lease in the namespace
// that carries label key, whatever its value, sorted by kind and ID.
func (c *Client) ListLabeled(ctx context.Context, key string) ([]Labeled, error) {
	ctx = c.Context(ctx)
	filter := "labels." + strconv.Quote(key)
	var out []Labeled
	conts, err := c.c.Containers(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("list containers: %w", err)
	}
	for _, cont := range conts {
		labels, err := cont.Labels(ctx)
		if err != nil {
			continue // removed meanwhile
		}
		out = append(out, Labeled{Kind: "container", ID: cont.ID(), Value: labels[key]})
	}
	err = c.c.SnapshotService(c.snapshotter).Walk(ctx, func(_ context.Context, info snapshots.Info) error {
		out = append(out, Labeled{Kind: "snapshot", ID: info.Name, Value: info.Labels[key]})
		return nil
	}, filter)
	if err != nil {
		return nil, fmt.Errorf("list snapshots in %s: %w", c.snapshotter, err)
	}
	ls, err := c.c.LeasesService().List(ctx, filter)
	if err != nil {
		return nil, fmt.Errorf("list leases: %w", err)
	}
	for _, l := range ls {
		out = append(out, Labeled{Kind: "lease", ID: l.ID, Value: l.Labels[key]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// RemoveAllLabeled is RemoveLabeled for every value of label key: it
// removes every container (with its task and snapshot), snapshot, image and
// lease carrying the label at all.
func (c *Client) RemoveAllLabeled(ctx context.Context, key string) (Removed, error) {
	objs, err := c.ListLabeled(ctx, key)
	if err != nil {
		return Removed{}, err
	}
	seen := map[string]bool{}
	var (
		total Removed
		errs  []error
	)
	for _, o := range objs {
		if seen[o.Value] {
			continue
		}
		seen[o.Value] = true
		rm, err := c.RemoveLabeled(ctx, key, o.Value)
		total.Containers += rm.Containers
		total.Snapshots += rm.Snapshots
		total.Images += rm.Images
		total.Leases += rm.Leases
		errs = append(errs, err)
	}
	return total, errors.Join(errs...)
}
