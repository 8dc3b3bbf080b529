package workflow

import (
	"errors"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/vermont-ci/vermont/workflow/expr"
)

// checkTemplate checks the syntax of every `${{ }}` in the scalar n, whose
// value is s, and reports each error at its position in the file.
func (w *walker) checkTemplate(n *yaml.Node, s string) {
	if !w.checkExprs || !strings.Contains(s, "${{") {
		return
	}
	for off := 0; ; {
		i := strings.Index(s[off:], "${{")
		if i < 0 {
			return
		}
		start := off + i + 3
		end := exprEnd(s, start)
		if end < 0 {
			w.errorf(w.posInScalar(n, s, off+i), KindExpression, "invalid expression: \"${{\" is not closed by \"}}\"")
			return
		}
		w.checkExprAt(n, start, s[start:end])
		off = end + 2
	}
}

// exprEnd returns the offset of the "}}" that closes the expression starting
// at start, skipping single-quoted string literals, or -1.
func exprEnd(s string, start int) int {
	for i := start; i < len(s); i++ {
		switch s[i] {
		case '\'':
			for i++; i < len(s); i++ {
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						i++
						continue
					}
					break
				}
			}
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				return i
			}
		}
	}
	return -1
}

// checkCondition checks an if: condition. GitHub evaluates a condition
// without `${{ }}` as an expression; with them, as written.
func (w *walker) checkCondition(n *yaml.Node, s string) {
	if !w.checkExprs {
		return
	}
	if strings.Contains(s, "${{") {
		before := len(w.errs)
		w.checkTemplate(n, s)
		if len(w.errs) == before {
			// A lone ${{ 'text' }} is the condition text, which the
			// template check has not parsed.
			if _, err := expr.ParseCondition(s); err != nil {
				w.exprError(n, 0, err)
			}
		}
		return
	}
	if strings.TrimSpace(s) == "" {
		w.errorf(posOf(n), KindExpression, "condition is empty")
		return
	}
	w.checkExprAt(n, 0, s)
}

// checkExprAt checks the expression src, the text at byte base of n's
// value: its syntax, the contexts and special functions the current
// workflow key allows (see [walker.at]), and with [WithCompiledExpressions]
// the rest expr.Compile checks. An availability error is reported alone,
// in GitHub's words, rather than beside Compile's "unknown context".
func (w *walker) checkExprAt(n *yaml.Node, base int, src string) {
	if w.avail != nil {
		node, err := expr.Parse(src)
		if err != nil {
			w.exprError(n, base, err)
			return
		}
		if !w.checkAvailability(n, base, node) || !w.compileExprs {
			return
		}
	}
	if err := w.checkExpr(src); err != nil {
		w.exprError(n, base, err)
	}
}

// checkExpr checks one expression: its syntax, or with
// [WithCompiledExpressions] everything expr.Compile checks.
func (w *walker) checkExpr(src string) error {
	if w.compileExprs {
		_, err := expr.Compile(src)
		return err
	}
	_, err := expr.Parse(src)
	return err
}

// exprError reports err, an error from package expr about the text that
// starts at byte base of n's value, at its position in the file.
func (w *walker) exprError(n *yaml.Node, base int, err error) {
	var e *expr.Error
	if errors.As(err, &e) {
		off := min(max(base+e.Offset, 0), len(n.Value))
		w.errorf(w.posInScalar(n, n.Value, off), KindExpression, "invalid expression: %s", e.Msg)
		return
	}
	w.errorf(posOf(n), KindExpression, "invalid expression: %v", err)
}
