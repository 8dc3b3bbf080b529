package expr

import (
	"strings"
	"testing"
)

func plain(v any) any { return Plain(v) }

func object(pairs ...any) *Object {
	o := NewObject(len(pairs) / 2)
	for i := 0; i < len(pairs); i += 2 {
		o.Set(pairs[i].(string), pairs[i+1])
	}
	return o
}

// TestObjectOrder: GitHub prints an object's keys in their source order:
// actions/runner's DictionaryContextData keeps insertion order, and
// toJSON writes it with Newtonsoft.Json, which follows it; fromJSON builds
// the dictionary in the JSON text's order. The object filter yields the
// values in that order too.
func TestObjectOrder(t *testing.T) {
	s := &Scope{Contexts: map[string]any{
		"matrix": object("os", "ubuntu", "arch", "arm64", "node", 20.0),
		"env":    object("Zed", "1", "alpha", "2"),
		"job":    object("z", object("b", 1.0, "a", 2.0), "a", []any{object("y", true, "x", false)}),
	}}
	cases := []struct{ expr, want string }{
		{"toJSON(matrix)", "{\n  \"os\": \"ubuntu\",\n  \"arch\": \"arm64\",\n  \"node\": 20\n}"},
		{"toJSON(env)", "{\n  \"Zed\": \"1\",\n  \"alpha\": \"2\"\n}"},
		{"toJSON(job)", "{\n  \"z\": {\n    \"b\": 1,\n    \"a\": 2\n  },\n  \"a\": [\n    {\n      \"y\": true,\n      \"x\": false\n    }\n  ]\n}"},
		{"toJSON(fromJSON('{\"b\":1,\"a\":{\"d\":[],\"c\":{}}}'))", "{\n  \"b\": 1,\n  \"a\": {\n    \"d\": [],\n    \"c\": {}\n  }\n}"},
		{"join(matrix.*, ' ')", "ubuntu arm64 20"},
		{"join(fromJSON('{\"z\":1,\"y\":2,\"x\":3}').*, ',')", "1,2,3"},
		{"toJSON(job.*.b)", "[\n  1\n]"},
		// A case-insensitive dictionary holds one key per spelling: a
		// later key in another case sets the first one's value.
		{"toJSON(fromJSON('{\"a\":1,\"A\":2}'))", "{\n  \"a\": 2\n}"},
		{"fromJSON('{\"Key\":1}').KEY", "1"},
		{"matrix.OS", "ubuntu"},
	}
	for _, tc := range cases {
		p, err := Compile(tc.expr)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.expr, err)
		}
		v, err := p.Eval(s)
		if err != nil {
			t.Fatalf("Eval(%q): %v", tc.expr, err)
		}
		if got := ToString(v); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// TestCaseSensitiveObject: the runner's env context is a
// CaseSensitiveDictionaryContextData on Linux and macOS
// (actions/runner src/Runner.Worker/ExecutionContext.cs, "env" is created
// case-sensitive unless the OS is Windows), so env.mixed_case is null when
// only Mixed_Case is set, while other contexts ignore case.
func TestCaseSensitiveObject(t *testing.T) {
	env := NewCaseSensitiveObject(2)
	env.Set("Mixed_Case", "m")
	env.Set("mixed_case_other", "o")
	s := &Scope{Contexts: map[string]any{"env": env, "github": object("Ref", "main")}}
	cases := []struct{ expr, want string }{
		{"env.Mixed_Case", "m"},
		{"env.mixed_case == null", "true"},
		{"env['MIXED_CASE'] == null", "true"},
		{"ENV.Mixed_Case", "m"}, // context names themselves ignore case
		{"github.ref", "main"},
		{"github.REF", "main"},
	}
	for _, tc := range cases {
		v, err := mustCompile(t, tc.expr).Eval(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := ToString(v); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.expr, got, tc.want)
		}
	}
	env.Set("MIXED_CASE", "upper")
	if got := env.Keys(); strings.Join(got, ",") != "Mixed_Case,mixed_case_other,MIXED_CASE" {
		t.Errorf("case-sensitive keys = %v; each spelling is its own key", got)
	}
}

func TestObjectSet(t *testing.T) {
	var o Object // the zero Object is usable
	o.Set("b", 1.0)
	o.Set("a", 2.0)
	o.Set("b", 3.0)
	o.Set("B", 4.0)
	if got := strings.Join(o.Keys(), ","); got != "b,a" {
		t.Fatalf("keys = %s, want b,a", got)
	}
	if v, _ := o.Get("b"); v != 4.0 {
		t.Fatalf("b = %v, want 4 (set again in another case)", v)
	}
	if _, ok := o.Get("c"); ok || o.Len() != 2 {
		t.Fatalf("Get(c) found, or Len = %d", o.Len())
	}
	var nilObj *Object
	if _, ok := nilObj.Get("a"); ok || nilObj.Len() != 0 || nilObj.Keys() != nil {
		t.Fatal("a nil *Object is not empty")
	}
}

func TestFromJSONDepth(t *testing.T) {
	_, err := fromJSON(strings.Repeat("[", maxJSONDepth+2) + strings.Repeat("]", maxJSONDepth+2))
	if err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("err = %v, want nested too deeply", err)
	}
	if _, err := fromJSON(strings.Repeat("[", 100) + strings.Repeat("]", 100)); err != nil {
		t.Fatal(err)
	}
}

func mustCompile(t *testing.T, src string) *Program {
	t.Helper()
	p, err := Compile(src)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	return p
}
