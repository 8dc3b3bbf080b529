package schedule

import (
	"sync"

	"github.com/vermont-ci/vermont/workflow"
	"github.com/vermont-ci/vermont/workflow/expr"
)

// templates parses each ${{ }} template of a plan once (matrix values, job
// names, concurrency groups, strategy values) and evaluates it as often as
// runs and matrix legs need. Safe for concurrent use.
type templates struct {
	m sync.Map // source → *expr.Template
}

func (t *templates) parse(src string) (*expr.Template, error) {
	if v, ok := t.m.Load(src); ok {
		return v.(*expr.Template), nil
	}
	tpl, err := expr.ParseTemplate(src)
	if err != nil {
		return nil, err
	}
	t.m.Store(src, tpl)
	return tpl, nil
}

// evalValue evaluates a template; a lone expression keeps its type.
func (t *templates) evalValue(src string, scope *expr.Scope) (any, error) {
	tpl, err := t.parse(src)
	if err != nil {
		return nil, err
	}
	return tpl.EvalValue(scope)
}

// evalString evaluates a template to a string.
func (t *templates) evalString(src string, scope *expr.Scope) (string, error) {
	tpl, err := t.parse(src)
	if err != nil {
		return "", err
	}
	return tpl.Eval(scope)
}

// boolValue is b's value, evaluated when it is an expression; def when b
// is absent or its expression fails.
func (t *templates) boolValue(b *workflow.Bool, def bool, scope *expr.Scope) bool {
	if b == nil {
		return def
	}
	if !b.IsExpr() {
		return b.Value
	}
	v, err := t.evalValue(b.Expr, scope)
	if err != nil {
		return def
	}
	return expr.Truthy(v)
}

// intValue is i's value, evaluated when it is an expression; def when i is
// absent or its expression does not give a number.
func (t *templates) intValue(i *workflow.Int, def int, scope *expr.Scope) int {
	if i == nil {
		return def
	}
	if !i.IsExpr() {
		return i.Value
	}
	v, err := t.evalValue(i.Expr, scope)
	if f, ok := v.(float64); err == nil && ok {
		return int(f)
	}
	return def
}
