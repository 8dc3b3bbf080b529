package schedule

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// maxMatrixLegs is GitHub's limit: "A matrix will generate a maximum of 256
// jobs per workflow run."
const maxMatrixLegs = 256

// Leg is one combination of a matrix.
type Leg struct {
	Values map[string]any
	Keys   []string // the keys of Values, in the order GitHub lists them
}

// matrixSpec is a matrix with every expression already evaluated.
type matrixSpec struct {
	keys    []string
	rows    map[string][]any
	include []map[string]any
	exclude []map[string]any
	incKeys []string // keys of include entries, in order of first appearance
}

// expandMatrix evaluates m against scope and expands it following GitHub's
// rules ("Using a matrix for your jobs"): the product of the rows, minus
// exclude entries (partial matches allowed), then each include entry merged
// into every original combination whose original keys it does not
// overwrite, or added as a combination of its own when it fits none.
func (t *templates) expandMatrix(m *workflow.Matrix, scope *expr.Scope) ([]Leg, error) {
	spec, err := t.evalMatrix(m, scope)
	if err != nil {
		return nil, err
	}
	return spec.expand()
}

func (t *templates) evalMatrix(m *workflow.Matrix, scope *expr.Scope) (*matrixSpec, error) {
	spec := &matrixSpec{rows: map[string][]any{}}
	if m.Expr != nil {
		v, err := t.evalValue(m.Expr.Value, scope)
		if err != nil {
			return nil, fmt.Errorf("%s: strategy.matrix: %w", m.Expr.Pos, err)
		}
		fields, ok := expr.ObjectFields(v)
		if !ok {
			return nil, fmt.Errorf("%s: strategy.matrix: the expression gives %s, want an object", m.Expr.Pos, kindOf(v))
		}
		for k, e := range fields {
			if err := spec.add(k, e); err != nil {
				return nil, fmt.Errorf("%s: strategy.matrix: %w", m.Expr.Pos, err)
			}
		}
		return spec, nil
	}
	for _, row := range m.Rows {
		v, err := t.valueOf(row.Value, scope)
		if err != nil {
			return nil, fmt.Errorf("%s: matrix.%s: %w", row.Value.Pos, row.Name.Value, err)
		}
		if err := spec.add(row.Name.Value, v); err != nil {
			return nil, fmt.Errorf("%s: %w", row.Value.Pos, err)
		}
	}
	for _, part := range []struct {
		name string
		v    *workflow.Value
	}{{"include", m.Include}, {"exclude", m.Exclude}} {
		if part.v == nil {
			continue
		}
		v, err := t.valueOf(part.v, scope)
		if err != nil {
			return nil, fmt.Errorf("%s: matrix.%s: %w", part.v.Pos, part.name, err)
		}
		if err := spec.add(part.name, v); err != nil {
			return nil, fmt.Errorf("%s: %w", part.v.Pos, err)
		}
	}
	return spec, nil
}

// add records one top-level matrix key.
func (s *matrixSpec) add(key string, v any) error {
	switch key {
	case "include", "exclude":
		list, ok := v.([]any)
		if !ok && v != nil {
			return fmt.Errorf("matrix.%s must be a list of objects, got %s", key, kindOf(v))
		}
		for i, e := range list {
			fields, ok := expr.ObjectFields(e)
			if !ok {
				return fmt.Errorf("matrix.%s[%d] must be an object, got %s", key, i, kindOf(e))
			}
			obj := map[string]any{}
			for k, v := range fields {
				obj[k] = v
				if key == "include" && !containsKey(s.incKeys, k) {
					s.incKeys = append(s.incKeys, k)
				}
			}
			if key == "include" {
				s.include = append(s.include, obj)
			} else {
				s.exclude = append(s.exclude, obj)
			}
		}
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		return fmt.Errorf("matrix.%s must be a list, got %s", key, kindOf(v))
	}
	if len(list) == 0 {
		return fmt.Errorf("matrix.%s has no values; a matrix row needs at least one", key)
	}
	s.keys = append(s.keys, key)
	s.rows[key] = list
	return nil
}

func (s *matrixSpec) expand() ([]Leg, error) {
	var combos []map[string]any
	if len(s.keys) > 0 {
		combos = []map[string]any{{}}
		for _, k := range s.keys {
			next := make([]map[string]any, 0, len(combos)*len(s.rows[k]))
			for _, c := range combos {
				for _, v := range s.rows[k] {
					n := make(map[string]any, len(c)+1)
					for ck, cv := range c {
						n[ck] = cv
					}
					n[k] = v
					next = append(next, n)
				}
			}
			combos = next
			if len(combos) > 4*maxMatrixLegs*maxMatrixLegs {
				return nil, fmt.Errorf("the matrix has more than %d combinations", maxMatrixLegs)
			}
		}
	}
	kept := combos[:0]
	for _, c := range combos {
		if !s.excluded(c) {
			kept = append(kept, c)
		}
	}
	base := len(kept)
	for _, inc := range s.include {
		matched := false
		for _, c := range kept[:base] {
			if s.fits(c, inc) {
				for k, v := range inc {
					// An original value is never overwritten, only
					// matched (by content, so it keeps its own key order).
					if _, orig := s.rows[k]; !orig {
						c[k] = v
					}
				}
				matched = true
			}
		}
		if !matched {
			n := make(map[string]any, len(inc))
			for k, v := range inc {
				n[k] = v
			}
			kept = append(kept, n)
		}
	}
	if len(kept) == 0 {
		return nil, fmt.Errorf("the matrix is empty after exclude; nothing would run")
	}
	if len(kept) > maxMatrixLegs {
		return nil, fmt.Errorf("the matrix gives %d jobs; GitHub allows at most %d", len(kept), maxMatrixLegs)
	}
	legs := make([]Leg, len(kept))
	for i, c := range kept {
		legs[i] = Leg{Values: c, Keys: s.orderedKeys(c)}
	}
	return legs, nil
}

// excluded reports whether every key of some exclude entry matches c.
func (s *matrixSpec) excluded(c map[string]any) bool {
	for _, ex := range s.exclude {
		all := true
		for k, v := range ex {
			cv, ok := c[k]
			if !ok || !matrixEqual(cv, v) {
				all = false
				break
			}
		}
		if all && len(ex) > 0 {
			return true
		}
	}
	return false
}

// fits reports whether include entry inc overwrites none of c's original
// matrix values.
func (s *matrixSpec) fits(c, inc map[string]any) bool {
	for k, v := range inc {
		if _, orig := s.rows[k]; orig && !matrixEqual(c[k], v) {
			return false
		}
	}
	return true
}

func (s *matrixSpec) orderedKeys(c map[string]any) []string {
	keys := make([]string, 0, len(c))
	for _, k := range s.keys {
		if _, ok := c[k]; ok {
			keys = append(keys, k)
		}
	}
	for _, k := range s.incKeys {
		if _, ok := c[k]; ok && !containsKey(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// matrixEqual compares matrix values; objects compare by content whatever
// their key order, strings exactly (GitHub matches matrix values
// case-sensitively).
func matrixEqual(a, b any) bool {
	fa, okA := expr.ObjectFields(a)
	fb, okB := expr.ObjectFields(b)
	switch {
	case okA != okB:
		return false
	case okA:
		ma, mb := map[string]any{}, map[string]any{}
		for k, v := range fa {
			ma[k] = v
		}
		for k, v := range fb {
			mb[k] = v
		}
		if len(ma) != len(mb) {
			return false
		}
		for k, v := range ma {
			w, ok := mb[k]
			if !ok || !matrixEqual(v, w) {
				return false
			}
		}
		return true
	}
	la, okA := a.([]any)
	lb, okB := b.([]any)
	if okA || okB {
		if !okA || !okB || len(la) != len(lb) {
			return false
		}
		for i := range la {
			if !matrixEqual(la[i], lb[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// valueOf converts a model value to data, evaluating expression strings.
func (t *templates) valueOf(v *workflow.Value, scope *expr.Scope) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch v.Kind {
	case workflow.StringValue:
		if strings.Contains(v.Scalar, "${{") {
			return t.evalValue(v.Scalar, scope)
		}
		return v.Scalar, nil
	case workflow.SeqValue:
		out := make([]any, 0, len(v.Seq))
		for _, e := range v.Seq {
			x, err := t.valueOf(e, scope)
			if err != nil {
				return nil, err
			}
			out = append(out, x)
		}
		return out, nil
	case workflow.MapValue:
		out := expr.NewObject(len(v.Map)) // keys in YAML order, as toJSON shows them
		for _, e := range v.Map {
			x, err := t.valueOf(e.Value, scope)
			if err != nil {
				return nil, err
			}
			out.Set(e.Key.Value, x)
		}
		return out, nil
	default:
		return v.Interface(), nil
	}
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any, *expr.Object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func containsKey(keys []string, k string) bool {
	for _, x := range keys {
		if x == k {
			return true
		}
	}
	return false
}

// Context returns the leg as the matrix context: its values in the order
// GitHub lists them. It is nil for the empty leg of a job without a matrix.
func (l Leg) Context() *expr.Object {
	if l.Values == nil {
		return nil
	}
	o := expr.NewObject(len(l.Keys))
	for _, k := range l.Keys {
		o.Set(k, l.Values[k])
	}
	return o
}

// legSuffix renders a leg as GitHub shows it after the job name:
// "(ubuntu-latest, 18)". Objects are shown as compact JSON.
func legSuffix(l Leg) string {
	parts := make([]string, 0, len(l.Keys))
	for _, k := range l.Keys {
		switch v := l.Values[k].(type) {
		case *expr.Object, map[string]any, []any:
			parts = append(parts, compactJSON(v))
		default:
			parts = append(parts, expr.ToString(v))
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// compactJSON prints v on one line, objects' keys in their order.
func compactJSON(v any) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(expr.ToJSON(v))); err != nil {
		return expr.ToString(v)
	}
	return b.String()
}
