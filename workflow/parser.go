package workflow

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Parser turns workflow files into validated models. The error, when not
// nil, is an [ErrorList] of every problem found (warnings included); the
// returned workflow is then a best-effort partial model for tools that list
// or show files, and must not be run. Warnings alone are no error: they are
// in the model's Warnings.
type Parser interface {
	Parse(filename string, src []byte) (*Workflow, error)
}

// YAMLParser is the default [Parser], built on gopkg.in/yaml.v3. A zero
// YAMLParser is ready to use and checks expressions; it is safe for
// concurrent use.
type YAMLParser struct {
	skipExprs    bool
	compileExprs bool
	maxAlias     int
}

var _ Parser = (*YAMLParser)(nil)

// Option configures a [YAMLParser].
type Option func(*YAMLParser)

// WithoutExpressionCheck turns off the checks of `${{ }}` expressions
// (syntax, and the contexts each workflow key allows), for tools that only
// need the structure.
func WithoutExpressionCheck() Option { return func(p *YAMLParser) { p.skipExprs = true } }

// WithCompiledExpressions makes the parser compile every expression, as
// the runner will, so that unknown functions and contexts and wrong numbers
// of arguments are reported too, not only syntax errors. It makes parsing
// several times slower; `vermont validate` uses it.
func WithCompiledExpressions() Option { return func(p *YAMLParser) { p.compileExprs = true } }

// WithMaxAliases bounds how many YAML alias dereferences one file may cause
// (default 10000), which protects against "billion laughs" documents.
func WithMaxAliases(n int) Option { return func(p *YAMLParser) { p.maxAlias = n } }

// defaultMaxAliases bounds alias expansion when no option says otherwise.
const defaultMaxAliases = 10000

// NewParser returns a YAMLParser configured by opts.
func NewParser(opts ...Option) *YAMLParser {
	p := &YAMLParser{}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Parse parses and validates a workflow file.
func Parse(filename string, src []byte) (*Workflow, error) {
	return NewParser().Parse(filename, src)
}

// ParseAction parses and validates an action metadata file (action.yml).
func ParseAction(filename string, src []byte) (*Action, error) {
	return NewParser().ParseAction(filename, src)
}

// Parse parses and validates a workflow file. See [Parser].
func (p *YAMLParser) Parse(filename string, src []byte) (wf *Workflow, err error) {
	w := p.newWalker(filename, src)
	defer w.recover(&err)
	root := w.decode()
	if root != nil {
		wf = w.workflow(root)
	}
	err = w.finish()
	if wf != nil {
		wf.Warnings = w.errs.Warnings()
	}
	return wf, err
}

// ParseAction parses and validates an action metadata file (action.yml).
func (p *YAMLParser) ParseAction(filename string, src []byte) (a *Action, err error) {
	w := p.newWalker(filename, src)
	defer w.recover(&err)
	root := w.decode()
	if root != nil {
		a = w.action(root)
	}
	err = w.finish()
	if a != nil {
		a.Warnings = w.errs.Warnings()
	}
	return a, err
}

func (p *YAMLParser) newWalker(filename string, src []byte) *walker {
	max := p.maxAlias
	if max <= 0 {
		max = defaultMaxAliases
	}
	return &walker{file: filename, src: newSource(src), checkExprs: !p.skipExprs, compileExprs: p.compileExprs, aliasBudget: max}
}

// walker holds the state of one parse: the file, and the diagnostics found.
type walker struct {
	file         string
	src          *source
	errs         ErrorList
	checkExprs   bool
	compileExprs bool
	aliasBudget  int
	// inWorkflow is set while a workflow file (not an action) is read;
	// avail is the context-availability row of the key being read, nil
	// where availability is not checked.
	inWorkflow bool
	avail      *availability
}

// errTooComplex stops a walk whose alias budget ran out.
var errTooComplex = errors.New("too many alias dereferences")

// recover turns an internal panic into a diagnostic, so no input can crash
// the caller; runtime errors are bugs and are re-raised.
func (w *walker) recover(errp *error) {
	r := recover()
	if r == nil {
		return
	}
	if _, ok := r.(runtime.Error); ok {
		panic(r)
	}
	if r == errTooComplex {
		w.errorf(Pos{1, 1}, KindSyntax, "document too complex: more than the allowed number of YAML alias dereferences")
	} else {
		w.errorf(Pos{1, 1}, KindSyntax, "internal error: %v", r)
	}
	*errp = w.finish()
}

func (w *walker) finish() error {
	w.errs.Sort()
	return w.errs.Err()
}

func (w *walker) errorf(pos Pos, kind Kind, format string, args ...any) {
	if !pos.IsValid() {
		pos = Pos{1, 1}
	}
	w.errs.Add(w.file, pos, kind, fmt.Sprintf(format, args...))
}

// warnf reports input Vermont does not know but GitHub may accept, such as
// a newer event: GitHub extends these lists, and a workflow it accepts must
// not be rejected.
func (w *walker) warnf(pos Pos, kind Kind, format string, args ...any) {
	if !pos.IsValid() {
		pos = Pos{1, 1}
	}
	w.errs = append(w.errs, &Error{File: w.file, Pos: pos, Kind: kind, Msg: fmt.Sprintf(format, args...), Severity: SeverityWarning})
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

// decode reads the first YAML document and returns its top node, or nil
// after reporting why it cannot.
func (w *walker) decode() *yaml.Node {
	var doc yaml.Node
	if err := yaml.Unmarshal(w.src.b, &doc); err != nil {
		msg, pos := err.Error(), Pos{1, 1}
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil && n >= 1 {
				pos.Line = n
			}
			msg = msg[len(m[0]):]
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		if strings.Contains(msg, "tab character") {
			pos = w.src.firstTab(pos)
		}
		w.errorf(pos, KindSyntax, "invalid YAML: %s", msg)
		return nil
	}
	if doc.Kind == 0 || len(doc.Content) == 0 || isNull(doc.Content[0]) {
		w.errorf(Pos{1, 1}, KindSyntax, "file is empty")
		return nil
	}
	return doc.Content[0]
}
