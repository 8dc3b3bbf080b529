package exec

import (
	"sort"
	"strings"
	"sync"
)

// Masker replaces secret values with "***". GitHub masks every secret and
// every value given to ::add-mask::, and, for a value spanning several lines,
// each of its lines, so that a secret printed piecewise is still hidden;
// and each of those in the encoded forms of valueEncoders (base64, URL,
// JSON, ...).
// A Masker is safe for concurrent use; the zero value masks nothing.
type Masker struct {
	mu       sync.RWMutex
	values   []string // longest first, so a secret containing another is hidden whole
	replacer *strings.Replacer
}

// minMaskLen is the shortest value masked. GitHub skips very short values
// (a one-character "secret" would blank out every log).
const minMaskLen = 2

// Add registers values to be masked.
func (m *Masker) Add(values ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := false
	for _, v := range values {
		for _, part := range maskParts(v) {
			for _, form := range encodedForms(part) {
				if !contains(m.values, form) {
					m.values = append(m.values, form)
					changed = true
				}
			}
		}
	}
	if !changed {
		return
	}
	sort.SliceStable(m.values, func(i, j int) bool { return len(m.values[i]) > len(m.values[j]) })
	pairs := make([]string, 0, 2*len(m.values))
	for _, v := range m.values {
		pairs = append(pairs, v, "***")
	}
	m.replacer = strings.NewReplacer(pairs...)
}

// encodedForms returns part and each non-empty form the runner's value
// encoders give it (see valueEncoders), never one shorter than minMaskLen.
func encodedForms(part string) []string {
	forms := []string{part}
	for _, e := range valueEncoders {
		if f := e.encode(part); len(strings.TrimSpace(f)) >= minMaskLen && !contains(forms, f) {
			forms = append(forms, f)
		}
	}
	return forms
}

// maskParts returns the value and, for a multi-line value, each line of it.
func maskParts(v string) []string {
	v = strings.TrimRight(v, "\r\n")
	var parts []string
	if len(strings.TrimSpace(v)) >= minMaskLen {
		parts = append(parts, v)
	}
	if strings.ContainsAny(v, "\r\n") {
		for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
			if len(strings.TrimSpace(line)) >= minMaskLen {
				parts = append(parts, line)
			}
		}
	}
	return parts
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Mask returns s with every registered value replaced by "***".
func (m *Masker) Mask(s string) string {
	if m == nil {
		return s
	}
	m.mu.RLock()
	r := m.replacer
	m.mu.RUnlock()
	if r == nil {
		return s
	}
	return r.Replace(s)
}

// MaskMap returns a copy of values with every value masked.
func (m *Masker) MaskMap(values map[string]string) map[string]string {
	if values == nil {
		return nil
	}
	out := make(map[string]string, len(values))
	for k, v := range values {
		out[k] = m.Mask(v)
	}
	return out
}
