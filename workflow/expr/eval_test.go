package expr

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// docs is GitHub's page these cases come from; each group names its section.
// https://docs.github.com/en/actions/reference/workflows-and-actions/expressions

// nan marks an expected NaN result, which reflect.DeepEqual cannot compare.
type nan struct{}

// testScope holds the contexts of the documentation's examples.
func testScope() *Scope {
	return &Scope{Contexts: map[string]any{
		"github": map[string]any{
			"event_name": "push",
			"ref":        "refs/heads/main",
			"repository": "octo-org/octo-repo",
			"head_ref":   "",
			"run_number": float64(42),
			"event": map[string]any{
				"issue": map[string]any{
					"labels": []any{
						map[string]any{"name": "bug"},
						map[string]any{"name": "help wanted"},
					},
				},
				"commits": []any{
					map[string]any{"message": "fix: one", "author": map[string]any{"name": "Mona"}},
					map[string]any{"message": "docs: two", "author": map[string]any{"name": "Hubot"}},
				},
			},
		},
		"env": map[string]any{
			"continue":    "true",
			"time":        "3",
			"MIXED_Case":  "mixed",
			"empty":       "",
			"matrix_json": `{"include":[{"project":"foo","config":"Debug"},{"project":"bar","config":"release"}]}`,
		},
		"vars":    map[string]any{"USE_VARIABLES": "true"},
		"secrets": map[string]any{"GITHUB_TOKEN": "ghs_secret", "BRACED": "ghs_secret{hunter2"},
		"matrix":  map[string]any{"os": "ubuntu-latest", "node": float64(18), "experimental": false},
		"job":     map[string]any{"status": "success"},
		"steps": map[string]any{
			"build-1": map[string]any{"outputs": map[string]any{"artifact": "app.tar"}, "outcome": "success", "conclusion": "success"},
		},
		"needs": map[string]any{
			"job1": map[string]any{"result": "success", "outputs": map[string]any{"matrix": `{"os":["ubuntu","windows"]}`}},
		},
		"inputs": map[string]any{
			// Object filters section: an array of objects.
			"fruits": []any{
				map[string]any{"name": "apple", "quantity": float64(1)},
				map[string]any{"name": "orange", "quantity": float64(2)},
				map[string]any{"name": "pear", "quantity": float64(1)},
			},
			// Object filters section: an object of objects.
			"vegetables": map[string]any{
				"scallions":  map[string]any{"colors": []any{"green", "white", "red"}, "ediblePortions": []any{"roots", "stems"}},
				"beets":      map[string]any{"colors": []any{"purple", "red", "gold", "white", "pink"}, "ediblePortions": []any{"roots", "stems"}},
				"artichokes": map[string]any{"colors": []any{"green", "purple", "red", "black"}, "ediblePortions": []any{"hearts", "stems", "leaves"}},
			},
			"nums":  []any{float64(1), float64(2), float64(3)},
			"mixed": []any{"a", float64(1), true, nil, map[string]any{"k": "v"}},
			"empty": []any{},
			"obj":   map[string]any{},
		},
		"strategy": map[string]any{"fail-fast": true, "job-index": float64(0), "job-total": float64(2)},
		"runner":   map[string]any{"os": "Linux", "arch": "X64", "temp": "/tmp"},
	}}
}

type evalCase struct {
	name string
	expr string
	want any
}

var evalCases = []evalCase{
	// docs: Literals — boolean, null, number (any JSON number format, plus hex
	// and exponent), string in single quotes with '' for a quote.
	{name: "null", expr: "null", want: nil},
	{name: "true", expr: "true", want: true},
	{name: "false", expr: "false", want: false},
	{name: "integer", expr: "711", want: 711.0},
	{name: "negative float", expr: "-9.2", want: -9.2},
	{name: "hex", expr: "0xff", want: 255.0},
	{name: "exponent", expr: "-2.99e-2", want: -0.0299},
	{name: "exponent upper", expr: "1E3", want: 1000.0},
	{name: "exponent plus", expr: "1e+2", want: 100.0},
	{name: "leading plus", expr: "+5", want: 5.0},
	{name: "leading dot", expr: ".5", want: 0.5},
	{name: "trailing dot", expr: "5.", want: 5.0},
	{name: "negative leading dot", expr: "-.5", want: -0.5},
	{name: "zero", expr: "0", want: 0.0},
	{name: "octal", expr: "0o17", want: 15.0},
	{name: "hex upper digits", expr: "0xFF", want: 255.0},
	{name: "hex int32 wraps", expr: "0xffffffff", want: -1.0},
	{name: "NaN keyword", expr: "NaN", want: nan{}},
	{name: "Infinity keyword", expr: "Infinity", want: math.Inf(1)},
	{name: "negative Infinity", expr: "-Infinity", want: math.Inf(-1)},
	{name: "string", expr: "'Mona the Octocat'", want: "Mona the Octocat"},
	{name: "string escape", expr: "'It''s open source!'", want: "It's open source!"},
	{name: "empty string", expr: "''", want: ""},
	{name: "string only quotes", expr: "''''", want: "'"},
	{name: "string keeps braces", expr: "'{{ }}'", want: "{{ }}"},
	{name: "string unicode", expr: "'héllo ✓'", want: "héllo ✓"},
	{name: "whitespace around", expr: "  \t true \n ", want: true},

	// docs: Operators — grouping, index, dereference, not, comparison,
	// equality, and, or; precedence from ( ) [] . through ! to < > == && ||.
	{name: "parens", expr: "(true)", want: true},
	{name: "not true", expr: "!true", want: false},
	{name: "not null", expr: "!null", want: true},
	{name: "double not", expr: "!!'a'", want: true},
	{name: "not binds tighter than <", expr: "!2 < 3", want: true},
	{name: "not of group", expr: "!(2 < 3)", want: false},
	{name: "< left assoc", expr: "3 < 2 < 1", want: true},
	{name: "< grouped", expr: "3 < (2 < 1)", want: false},
	{name: "== left assoc", expr: "1 == 1 == true", want: true},
	{name: "< binds tighter than ==", expr: "1 < 2 == true", want: true},
	{name: "== binds tighter than &&", expr: "1 == 1 && 2 == 2", want: true},
	{name: "&& binds tighter than ||", expr: "true || false && false", want: true},
	{name: "|| grouped first", expr: "(true || false) && false", want: false},
	{name: "dot before not", expr: "!matrix.experimental", want: true},
	{name: "index before compare", expr: "3 > inputs.nums[1]", want: true},
	{name: "less", expr: "1 < 2", want: true},
	{name: "less equal", expr: "2 <= 2", want: true},
	{name: "greater", expr: "2 > 1", want: true},
	{name: "greater equal", expr: "1 >= 2", want: false},
	{name: "equal", expr: "1 == 1", want: true},
	{name: "not equal", expr: "1 != 1", want: false},

	// docs: Operators — && and || return an operand, which gives the
	// documented ternary-like pattern.
	{name: "ternary main", expr: "github.ref == 'refs/heads/main' && 'value_for_main_branch' || 'value_for_other_branches'", want: "value_for_main_branch"},
	{name: "ternary other", expr: "github.ref == 'refs/heads/dev' && 'value_for_main_branch' || 'value_for_other_branches'", want: "value_for_other_branches"},
	{name: "and returns last truthy", expr: "1 && 'a'", want: "a"},
	{name: "and returns first falsy", expr: "0 && 'a'", want: 0.0},
	{name: "and returns empty string", expr: "'' && 'a'", want: ""},
	{name: "and returns null", expr: "null && true", want: nil},
	{name: "or returns first truthy", expr: "'x' || 'y'", want: "x"},
	{name: "or returns last", expr: "false || 0", want: 0.0},
	{name: "or default", expr: "github.head_ref || github.ref", want: "refs/heads/main"},
	{name: "or of objects", expr: "inputs.obj || 'x'", want: map[string]any{}},
	{name: "and chain", expr: "1 && 2 && 3", want: 3.0},
	{name: "or chain", expr: "0 || '' || null", want: nil},
	{name: "and short-circuits errors", expr: "false && fromJSON('not json')", want: false},
	{name: "or short-circuits errors", expr: "true || fromJSON('not json')", want: true},

	// docs: Operators — falsy values are false, 0, -0, "", null, NaN;
	// everything else, including empty arrays and objects, is truthy.
	{name: "falsy false", expr: "!false", want: true},
	{name: "falsy 0", expr: "!0", want: true},
	{name: "falsy -0", expr: "!-0", want: true},
	{name: "falsy empty string", expr: "!''", want: true},
	{name: "falsy NaN", expr: "!NaN", want: true},
	{name: "truthy string", expr: "!'false'", want: false},
	{name: "truthy number", expr: "!-1", want: false},
	{name: "truthy empty array", expr: "!inputs.empty", want: false},
	{name: "truthy empty object", expr: "!inputs.obj", want: false},
	{name: "truthy Infinity", expr: "!Infinity", want: false},

	// docs: Operators — loose equality: differing types are coerced to
	// numbers (null → 0, true → 1, false → 0, strings parsed, '' → 0,
	// arrays and objects → NaN); strings compare ignoring case.
	{name: "null == 0", expr: "null == 0", want: true},
	{name: "null == false", expr: "null == false", want: true},
	{name: "null == ''", expr: "null == ''", want: true},
	{name: "null == null", expr: "null == null", want: true},
	{name: "true == 1", expr: "true == 1", want: true},
	{name: "true == 2", expr: "true == 2", want: false},
	{name: "false == 0", expr: "false == 0", want: true},
	{name: "true == '1'", expr: "true == '1'", want: true},
	{name: "false == ''", expr: "false == ''", want: true},
	{name: "true == 'true'", expr: "true == 'true'", want: false},
	{name: "'' == 0", expr: "'' == 0", want: true},
	{name: "' ' == 0", expr: "' ' == 0", want: true},
	{name: "'1' == 1", expr: "'1' == 1", want: true},
	{name: "' 1 ' == 1", expr: "' 1 ' == 1", want: true},
	{name: "'1.0' == 1", expr: "'1.0' == 1", want: true},
	{name: "'0x10' == 16", expr: "'0x10' == 16", want: true},
	{name: "'1e2' == 100", expr: "'1e2' == 100", want: true},
	{name: "'abc' == 0", expr: "'abc' == 0", want: false},
	{name: "'abc' != 0", expr: "'abc' != 0", want: true},
	{name: "case-insensitive ==", expr: "'ABC' == 'abc'", want: true},
	{name: "case-insensitive !=", expr: "'Push' != 'push'", want: false},
	{name: "context compare ignores case", expr: "github.event_name == 'PUSH'", want: true},
	{name: "number == number", expr: "1.5 == 1.50", want: true},
	{name: "hex == decimal", expr: "0x10 == 16", want: true},
	{name: "-0 == 0", expr: "-0 == 0", want: true},
	{name: "NaN == NaN", expr: "NaN == NaN", want: false},
	{name: "NaN != NaN", expr: "NaN != NaN", want: true},
	{name: "array == array other instance", expr: "fromJSON('[1]') == fromJSON('[1]')", want: false},
	{name: "empty arrays are distinct", expr: "fromJSON('[]') == fromJSON('[]')", want: false},
	{name: "array == same instance", expr: "inputs.nums == inputs.nums", want: true},
	{name: "object == same instance", expr: "github.event == github.event", want: true},
	{name: "object == other object", expr: "inputs.obj == github.event", want: false},
	{name: "object == string", expr: "inputs.obj == 'Object'", want: false},
	{name: "array == 0", expr: "inputs.empty == 0", want: false},
	{name: "object != 1", expr: "inputs.obj != 1", want: true},
	{name: "missing == null", expr: "github.nothing == null", want: true},
	{name: "missing == ''", expr: "github.nothing == ''", want: true},

	// docs: Operators — NaN in any relational comparison is false; strings
	// compare ignoring case; types coerce as for ==.
	{name: "NaN < 1", expr: "NaN < 1", want: false},
	{name: "NaN >= 1", expr: "NaN >= 1", want: false},
	{name: "1 > NaN", expr: "1 > NaN", want: false},
	{name: "NaN <= NaN", expr: "NaN <= NaN", want: false},
	{name: "'abc' < 1", expr: "'abc' < 1", want: false},
	{name: "'abc' > 1", expr: "'abc' > 1", want: false},
	{name: "'a' < 'B'", expr: "'a' < 'B'", want: true},
	{name: "'B' > 'a'", expr: "'B' > 'a'", want: true},
	{name: "'abc' <= 'ABC'", expr: "'abc' <= 'ABC'", want: true},
	{name: "'abc' < 'ABC'", expr: "'abc' < 'ABC'", want: false},
	{name: "'10' < 9 numeric", expr: "'10' < 9", want: false},
	{name: "'10' < '9' string", expr: "'10' < '9'", want: true},
	{name: "true > false", expr: "true > false", want: true},
	{name: "false < true", expr: "false < true", want: true},
	{name: "null < 1", expr: "null < 1", want: true},
	{name: "null <= null", expr: "null <= null", want: true},
	{name: "null < null", expr: "null < null", want: false},
	{name: "true >= 1", expr: "true >= 1", want: true},
	{name: "array < 1", expr: "inputs.nums < 1", want: false},
	{name: "Infinity > 1e308", expr: "Infinity > 1e308", want: true},
	{name: "matrix number compare", expr: "matrix.node >= 16", want: true},
	{name: "matrix number vs string", expr: "matrix.node == '18'", want: true},

	// docs: Contexts / Expressions — property dereference with . and [],
	// names with -, missing properties are null, names ignore case.
	{name: "dot", expr: "github.repository", want: "octo-org/octo-repo"},
	{name: "index string", expr: "github['repository']", want: "octo-org/octo-repo"},
	{name: "nested", expr: "github.event.issue.labels[0].name", want: "bug"},
	{name: "dash in name", expr: "steps.build-1.outputs.artifact", want: "app.tar"},
	{name: "dash via index", expr: "steps['build-1'].outcome", want: "success"},
	{name: "strategy fail-fast", expr: "strategy.fail-fast", want: true},
	{name: "missing property", expr: "github.nope", want: nil},
	{name: "missing nested", expr: "github.nope.deeper", want: nil},
	{name: "missing context value", expr: "jobs", want: nil},
	{name: "case-insensitive key", expr: "GITHUB.Event_Name", want: "push"},
	{name: "case-insensitive env", expr: "env.mixed_case", want: "mixed"},
	{name: "index case-insensitive", expr: "env['MIXED_CASE']", want: "mixed"},
	{name: "array index", expr: "inputs.nums[2]", want: 3.0},
	{name: "array index string", expr: "inputs.nums['1']", want: 2.0},
	{name: "array index floored", expr: "inputs.nums[1.9]", want: 2.0},
	{name: "array index out of range", expr: "inputs.nums[3]", want: nil},
	{name: "array index negative", expr: "inputs.nums[-1]", want: nil},
	{name: "array index NaN", expr: "inputs.nums['x']", want: nil},
	{name: "array property", expr: "inputs.nums.length", want: nil},
	{name: "string property", expr: "github.ref.length", want: nil},
	{name: "object index number", expr: "github[1]", want: nil},
	{name: "index by expression", expr: "github[format('{0}_name', 'event')]", want: "push"},
	{name: "property named null", expr: "github.null", want: nil},
	{name: "call then property", expr: "fromJSON('{\"a\":{\"b\":7}}').a.b", want: 7.0},
	{name: "call then index", expr: "fromJSON('[10,20]')[1]", want: 20.0},
	{name: "group then property", expr: "(github).ref", want: "refs/heads/main"},
	{name: "group literal then property", expr: "(null).x", want: nil},
	{name: "not then property", expr: "(!github).ref", want: nil},
	{name: "whole context", expr: "job", want: map[string]any{"status": "success"}},
	{name: "secrets", expr: "secrets.GITHUB_TOKEN != ''", want: true},
	{name: "vars", expr: "vars.USE_VARIABLES == 'true'", want: true},
	{name: "needs", expr: "needs.job1.result", want: "success"},
	{name: "runner", expr: "runner.os", want: "Linux"},

	// docs: Object filters — * selects every element of an array or value of
	// an object; further dereferences apply to each one.
	{name: "filter names", expr: "inputs.fruits.*.name", want: []any{"apple", "orange", "pear"}},
	{name: "filter index form", expr: "inputs.fruits[*].name", want: []any{"apple", "orange", "pear"}},
	{name: "filter object", expr: "inputs.vegetables.*.ediblePortions", want: []any{
		[]any{"hearts", "stems", "leaves"}, []any{"roots", "stems"}, []any{"roots", "stems"}}},
	{name: "filter flatten", expr: "inputs.vegetables.*.colors.*", want: []any{
		"green", "purple", "red", "black", "purple", "red", "gold", "white", "pink", "green", "white", "red"}},
	{name: "filter index each", expr: "inputs.vegetables.*.colors[0]", want: []any{"green", "purple", "green"}},
	{name: "filter missing dropped", expr: "inputs.fruits.*.color", want: []any{}},
	{name: "filter on string", expr: "github.ref.*", want: []any{}},
	{name: "filter on null", expr: "github.nope.*", want: []any{}},
	{name: "filter labels", expr: "github.event.issue.labels.*.name", want: []any{"bug", "help wanted"}},
	{name: "filter nested object", expr: "github.event.commits.*.author.name", want: []any{"Mona", "Hubot"}},
	{name: "filter of array", expr: "inputs.nums.*", want: []any{1.0, 2.0, 3.0}},
	{name: "filter compare is not equal", expr: "inputs.fruits.*.name == 'apple'", want: false},

	// docs: Functions > contains — case-insensitive substring for strings,
	// loose equality against elements for arrays.
	{name: "contains docs", expr: "contains('Hello world', 'llo')", want: true},
	{name: "contains case", expr: "contains('Hello world', 'LLO')", want: true},
	{name: "contains missing", expr: "contains('Hello world', 'xyz')", want: false},
	{name: "contains empty item", expr: "contains('abc', '')", want: true},
	{name: "contains labels", expr: "contains(github.event.issue.labels.*.name, 'bug')", want: true},
	{name: "contains labels case", expr: "contains(github.event.issue.labels.*.name, 'BUG')", want: true},
	{name: "contains labels missing", expr: "contains(github.event.issue.labels.*.name, 'wontfix')", want: false},
	{name: "contains fromJSON array", expr: "contains(fromJSON('[\"push\", \"pull_request\"]'), github.event_name)", want: true},
	{name: "contains number element", expr: "contains(inputs.nums, '2')", want: true},
	{name: "contains bool element", expr: "contains(inputs.mixed, true)", want: true},
	{name: "contains null element", expr: "contains(inputs.mixed, null)", want: true},
	{name: "contains number in string", expr: "contains(12345, 34)", want: true},
	{name: "contains bool in string", expr: "contains('is true', true)", want: true},
	{name: "contains object search", expr: "contains(inputs.obj, 'a')", want: false},
	{name: "contains object item", expr: "contains('Object', inputs.obj)", want: false},
	{name: "contains empty array", expr: "contains(inputs.empty, '')", want: false},
	{name: "contains name case-insensitive", expr: "CONTAINS('abc', 'B')", want: true},

	// docs: Functions > startsWith, endsWith — case-insensitive.
	{name: "startsWith docs", expr: "startsWith('Hello world', 'He')", want: true},
	{name: "startsWith case", expr: "startsWith('Hello world', 'he')", want: true},
	{name: "startsWith false", expr: "startsWith('Hello world', 'world')", want: false},
	{name: "startsWith ref", expr: "startsWith(github.ref, 'refs/heads/')", want: true},
	{name: "startsWith number", expr: "startsWith(123, 1)", want: true},
	{name: "startsWith longer", expr: "startsWith('a', 'abc')", want: false},
	{name: "startsWith array", expr: "startsWith(inputs.nums, '1')", want: false},
	{name: "endsWith docs", expr: "endsWith('Hello world', 'ld')", want: true},
	{name: "endsWith case", expr: "endsWith('Hello world', 'LD')", want: true},
	{name: "endsWith false", expr: "endsWith('Hello world', 'He')", want: false},
	{name: "endsWith bool", expr: "endsWith('it is true', true)", want: true},
	{name: "endsWith unicode case", expr: "endsWith('straße', 'SSE')", want: false},
	{name: "endsWith unicode", expr: "endsWith('ÄÖÜ', 'öü')", want: true},
	{name: "startsWith name case", expr: "startswith('ab', 'A')", want: true},

	// docs: Functions > format — {N} replaced, {{ and }} escape braces,
	// values converted to strings as GitHub does.
	{name: "format docs", expr: "format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')", want: "Hello Mona the Octocat"},
	{name: "format escapes", expr: "format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')", want: "{Hello Mona the Octocat!}"},
	{name: "format repeat", expr: "format('{0}{0}', 'a')", want: "aa"},
	{name: "format order", expr: "format('{1}-{0}', 'a', 'b')", want: "b-a"},
	{name: "format number", expr: "format('{0}', 1.5)", want: "1.5"},
	{name: "format integer", expr: "format('{0}', 3)", want: "3"},
	{name: "format bool", expr: "format('{0}', true)", want: "true"},
	{name: "format null", expr: "format('[{0}]', null)", want: "[]"},
	{name: "format big number", expr: "format('{0}', 1e15)", want: "1E+15"},
	{name: "format small number", expr: "format('{0}', 0.0000001)", want: "1E-07"},
	{name: "format 15 digits", expr: "format('{0}', 0.1)", want: "0.1"},
	{name: "format hex", expr: "format('{0}', 0xff)", want: "255"},
	{name: "format NaN", expr: "format('{0}', NaN)", want: "NaN"},
	{name: "format Infinity", expr: "format('{0}', -Infinity)", want: "-Infinity"},
	{name: "format unused args", expr: "format('x', 1, 2)", want: "x"},
	{name: "format no placeholders", expr: "format('plain')", want: "plain"},
	{name: "format leading zeros", expr: "format('{00}', 'a')", want: "a"},
	{name: "format array", expr: "format('{0}', inputs.nums)", want: "Array"},
	{name: "format object", expr: "format('{0}', github.event)", want: "Object"},
	{name: "format first arg number", expr: "format(12, 'x')", want: "12"},

	// docs: Functions > join — elements joined by the separator (default
	// ","); a string is returned as is.
	{name: "join docs", expr: "join(github.event.issue.labels.*.name, ', ')", want: "bug, help wanted"},
	{name: "join default", expr: "join(inputs.nums)", want: "1,2,3"},
	{name: "join string", expr: "join('abc', '-')", want: "abc"},
	{name: "join empty", expr: "join(inputs.empty, '-')", want: ""},
	{name: "join number separator", expr: "join(inputs.nums, 0)", want: "10203"},
	{name: "join mixed", expr: "join(inputs.mixed, '|')", want: "a|1|true||Object"},
	{name: "join object", expr: "join(inputs.obj)", want: ""},
	{name: "join null", expr: "join(null)", want: ""},

	// docs: Functions > toJSON — pretty-printed JSON.
	{name: "toJSON job", expr: "toJSON(job)", want: "{\n  \"status\": \"success\"\n}"},
	{name: "toJSON string", expr: "toJSON('a\"b')", want: "\"a\\\"b\""},
	{name: "toJSON null", expr: "toJSON(null)", want: "null"},
	{name: "toJSON bool", expr: "toJSON(false)", want: "false"},
	{name: "toJSON number", expr: "toJSON(1.5)", want: "1.5"},
	{name: "toJSON integer", expr: "toJSON(3)", want: "3"},
	{name: "toJSON huge", expr: "toJSON(1e20)", want: "1E+20"},
	{name: "toJSON empty array", expr: "toJSON(inputs.empty)", want: "[]"},
	{name: "toJSON empty object", expr: "toJSON(inputs.obj)", want: "{}"},
	{name: "toJSON nested", expr: "toJSON(fromJSON('{\"a\":[1,{\"b\":null}]}'))", want: "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ]\n}"},
	{name: "toJSON filter", expr: "toJSON(inputs.fruits.*.quantity)", want: "[\n  1,\n  2,\n  1\n]"},
	{name: "toJSON no html escaping", expr: "toJSON('<&>')", want: "\"<&>\""},
	{name: "toJSON newline", expr: "toJSON(fromJSON('\"a\\nb\"'))", want: "\"a\\nb\""},

	// docs: Functions > fromJSON — JSON to values: booleans, numbers,
	// objects, as in the env.continue and env.time examples.
	{name: "fromJSON true", expr: "fromJSON(env.continue)", want: true},
	{name: "fromJSON number", expr: "fromJSON(env.time)", want: 3.0},
	{name: "fromJSON matrix", expr: "fromJSON(needs.job1.outputs.matrix)", want: map[string]any{"os": []any{"ubuntu", "windows"}}},
	{name: "fromJSON include", expr: "fromJSON(env.matrix_json).include[1].config", want: "release"},
	{name: "fromJSON null", expr: "fromJSON('null')", want: nil},
	{name: "fromJSON string", expr: "fromJSON('\"x\"')", want: "x"},
	{name: "fromJSON number arg", expr: "fromJSON(12)", want: 12.0},
	{name: "fromJSON roundtrip", expr: "fromJSON(toJSON(inputs.nums))", want: []any{1.0, 2.0, 3.0}},
	{name: "fromJSON whitespace", expr: "fromJSON(' [1] ')", want: []any{1.0}},

	// docs: Status check functions — success(), always(), cancelled(),
	// failure() (testScope: nothing failed, nothing cancelled).
	{name: "success", expr: "success()", want: true},
	{name: "always", expr: "always()", want: true},
	{name: "cancelled", expr: "cancelled()", want: false},
	{name: "failure", expr: "failure()", want: false},
	{name: "failure with condition", expr: "failure() && steps.build-1.conclusion == 'failure'", want: false},
	{name: "status name case", expr: "Success()", want: true},
	{name: "not cancelled", expr: "!cancelled()", want: true},

	// docs: Functions > case — the first true predicate's value, else the
	// default; only the chosen value is evaluated.
	{name: "case docs push", expr: "case(github.event_name == 'push', 'Pushed', github.event_name == 'pull_request', 'PR', 'Unknown')", want: "Pushed"},
	{name: "case default", expr: "case(false, 'first', false, 'second', 'default')", want: "default"},
	{name: "case second", expr: "case(false, 'first', true, 'second', 'default')", want: "second"},
	{name: "case first wins", expr: "case(true, 1, true, 2, 3)", want: 1.0},
	{name: "case lazy", expr: "case(true, 'ok', fromJSON('bad'))", want: "ok"},
	{name: "case values keep type", expr: "case(1 == 1, inputs.nums, null)", want: []any{1.0, 2.0, 3.0}},

	// docs: Example — a typical if: condition.
	{name: "typical if", expr: typicalIf, want: true},
	{name: "if with vars", expr: "github.event_name == 'push' && vars.USE_VARIABLES == 'true'", want: true},
	{name: "if on fork", expr: "github.repository == 'octo-org/octo-repo-prod'", want: false},
}

func TestEval(t *testing.T) {
	t.Parallel()
	if len(evalCases) < 150 {
		t.Fatalf("only %d cases; the table must keep at least 150", len(evalCases))
	}
	s := testScope()
	for _, tc := range evalCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile(%q): %v", tc.expr, err)
			}
			got, err := p.Eval(s)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tc.expr, err)
			}
			if _, ok := tc.want.(nan); ok {
				if f, isNum := got.(float64); !isNum || !math.IsNaN(f) {
					t.Fatalf("Eval(%q) = %#v, want NaN", tc.expr, got)
				}
				return
			}
			if !reflect.DeepEqual(plain(got), tc.want) {
				t.Fatalf("Eval(%q) = %#v, want %#v", tc.expr, got, tc.want)
			}
		})
	}
}

func TestEvalStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                          string
		failed, cancelled, incomplete bool
		want                          map[string]bool
	}{
		{name: "ok", want: map[string]bool{"success()": true, "failure()": false, "cancelled()": false, "always()": true}},
		{name: "failed", failed: true, want: map[string]bool{"success()": false, "failure()": true, "cancelled()": false, "always()": true}},
		{name: "cancelled", cancelled: true, want: map[string]bool{"success()": false, "failure()": false, "cancelled()": true, "always()": true}},
		{name: "incomplete", incomplete: true, want: map[string]bool{"success()": false, "failure()": false, "cancelled()": false, "always()": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &Scope{Failed: tc.failed, Cancelled: tc.cancelled, Incomplete: tc.incomplete}
			for src, want := range tc.want {
				p, err := Compile(src)
				if err != nil {
					t.Fatal(err)
				}
				if !p.UsesStatus() {
					t.Errorf("%s: UsesStatus() = false", src)
				}
				got, err := p.Eval(s)
				if err != nil || got != want {
					t.Errorf("%s = %v, %v; want %v", src, got, err, want)
				}
			}
		})
	}
}

// TestEvalErrors covers evaluation failures: each is an *Error at the
// failing call, and none reveals context values.
func TestEvalErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		expr string
		off  int
		msg  string
	}{
		{name: "format index past args", expr: "format('{1}', 'a')", msg: "references argument {1} but only 1 argument follow"},
		{name: "format string from a secret", expr: "format(secrets.BRACED)", msg: "'{' at index 10 must start {N}"},
		{name: "fromJSON of a secret", expr: "fromJSON(secrets.BRACED)", msg: "fromJSON: invalid JSON at byte 1"},
		{name: "format lone brace", expr: "format('{', 'a')", msg: "invalid format string"},
		{name: "format lone close", expr: "format('}', 'a')", msg: "a lone '}' at index 0 must be written }}"},
		{name: "format specifier", expr: "format('{0:x}', 1)", msg: "invalid format string"},
		{name: "format empty index", expr: "format('{}', 1)", msg: "invalid format string"},
		{name: "format index too large", expr: "format('{256}', 1)", msg: "above 255"},
		{name: "format offset", expr: "true && format('{1}')", off: 8, msg: "format:"},
		{name: "fromJSON invalid", expr: "fromJSON('{')", msg: "fromJSON: invalid JSON"},
		{name: "fromJSON empty", expr: "fromJSON('')", msg: "fromJSON: empty input"},
		{name: "fromJSON trailing", expr: "fromJSON('1 2')", msg: "data after the value"},
		{name: "fromJSON of an object", expr: "fromJSON(github.event)", msg: "fromJSON: invalid JSON at byte 1"},
		{name: "fromJSON secret not echoed", expr: "fromJSON(secrets.GITHUB_TOKEN)", msg: "fromJSON: invalid JSON"},
		{name: "hashFiles unavailable", expr: "hashFiles('**/go.sum')", msg: "hashFiles: not available"},
		{name: "case non-boolean", expr: "case('yes', 1, 2)", msg: "case: a predicate evaluated to a string"},
	}
	s := testScope()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := Compile(tc.expr)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			v, err := p.Eval(s)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Eval(%q) = %#v, %v; want an *Error", tc.expr, v, err)
			}
			if e.Offset != tc.off || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("Eval(%q) error = offset %d %q; want offset %d containing %q", tc.expr, e.Offset, e.Msg, tc.off, tc.msg)
			}
			if strings.Contains(err.Error(), "ghs_secret") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error reveals a secret: %v", err)
			}
		})
	}
}

// TestEvalConcurrent evaluates one program from many goroutines, as
// parallel jobs do; run with -race.
func TestEvalConcurrent(t *testing.T) {
	t.Parallel()
	p, err := Compile("contains(github.event.issue.labels.*.name, 'bug') && format('{0}-{1}', matrix.os, matrix.node)")
	if err != nil {
		t.Fatal(err)
	}
	s := testScope()
	done := make(chan error, 8)
	for range 8 {
		go func() {
			for range 200 {
				v, err := p.Eval(s)
				if err != nil || v != "ubuntu-latest-18" {
					done <- errors.New("unexpected result")
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestTruthy(t *testing.T) {
	t.Parallel()
	for _, v := range []any{false, 0.0, math.Copysign(0, -1), math.NaN(), "", nil} {
		if Truthy(v) {
			t.Errorf("Truthy(%#v) = true", v)
		}
	}
	for _, v := range []any{true, 1.0, -1.0, "0", "false", []any{}, map[string]any{}, math.Inf(1)} {
		if !Truthy(v) {
			t.Errorf("Truthy(%#v) = false", v)
		}
	}
}
