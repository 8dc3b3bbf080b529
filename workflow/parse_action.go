package workflow

import (
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

var (
	runsKeys = map[string][]string{
		"composite": {"using", "steps"},
		"docker":    {"using", "image", "env", "entrypoint", "args", "pre-entrypoint", "post-entrypoint", "pre-if", "post-if"},
		"node":      {"using", "main", "pre", "post", "pre-if", "post-if"},
	}
	usingValues = []string{"composite", "docker", "node12", "node16", "node20", "node24"}
)

// action reads an action.yml. Like the runner, it requires only runs (and
// what its using needs): the top level and each input are loose mappings in
// the runner's schema, so name, unknown keys (author, branding, an input's
// type) and an output without value load there and here
// (actions/runner src/Runner.Worker/action_yaml.json, "action-root",
// "input", "output-definition"; ActionManifestManager.cs).
func (w *walker) action(root *yaml.Node) *Action {
	a := &Action{File: w.file, Pos: posOf(root)}
	ok := w.mapping(root, "action", nil, func(k *String, v *yaml.Node) {
		switch k.Value {
		case "name":
			a.Name = w.str(v, "name")
		case "description":
			a.Description = w.str(v, "description")
		case "author":
			a.Author = w.str(v, "author")
		case "inputs":
			a.Inputs = w.actionInputs(v)
		case "outputs":
			a.Outputs = w.actionOutputs(v)
		case "runs":
			a.Runs = w.runs(v)
		case "branding":
			a.Branding = w.branding(v)
		}
	})
	if !ok || isNull(w.resolve(root)) {
		return a
	}
	if a.Runs == nil {
		w.errorf(a.Pos, KindKey, `missing key "runs" in action metadata: it says how the action runs (composite, docker or node)`)
	}
	return a
}

func (w *walker) actionInputs(n *yaml.Node) []*ActionInput {
	var out []*ActionInput
	w.mapping(n, "inputs", nil, func(name *String, v *yaml.Node) {
		in := &ActionInput{Name: *name, Pos: posOf(w.resolve(v))}
		what := "inputs." + name.Value
		w.mapping(v, what, nil, func(k *String, v *yaml.Node) {
			kw := what + "." + k.Value
			switch k.Value {
			case "description":
				in.Description = w.str(v, kw)
			case "required":
				in.Required = w.boolean(v, kw)
			case "default":
				in.Default = w.str(v, kw)
			case "deprecationMessage":
				in.DeprecationMessage = w.str(v, kw)
			}
		})
		out = append(out, in)
	})
	return out
}

func (w *walker) actionOutputs(n *yaml.Node) []*Output {
	var out []*Output
	w.mapping(n, "outputs", nil, func(name *String, v *yaml.Node) {
		o := &Output{Name: *name, Pos: posOf(w.resolve(v))}
		what := "outputs." + name.Value
		w.mapping(v, what, []string{"description", "value"}, func(k *String, v *yaml.Node) {
			if k.Value == "description" {
				o.Description = w.str(v, what+".description")
			} else {
				o.Value = w.str(v, what+".value")
			}
		})
		out = append(out, o)
	})
	return out
}

// runs reads runs: and checks the keys for its kind of action.
func (w *walker) runs(n *yaml.Node) *Runs {
	n = w.resolve(n)
	r := &Runs{Pos: posOf(n)}
	if n.Kind != yaml.MappingNode {
		w.errorf(r.Pos, KindType, "runs must be a mapping, found %s", kindName(n))
		return r
	}
	kind := ""
	for _, p := range w.pairs(n) {
		if p.k.Value == "using" {
			if s := w.scalar(p.v, "runs.using"); s != nil {
				r.Using = *s
				kind = usingKind(s.Value)
			}
		}
	}
	if r.Using.Value == "" {
		w.errorf(r.Pos, KindKey, `missing key "using" in runs: use composite, docker or node24 (or node20)`)
	} else if kind == "" && isNewerNode(r.Using.Value) {
		// GitHub adds node runtimes; a newer one than Vermont knows is
		// shown, and the action fails only when it runs.
		w.warnf(r.Using.Pos, KindValue, "unknown runs.using %q: a node runtime newer than Vermont knows (%s)", r.Using.Value, strings.Join(usingValues, ", "))
	} else if kind == "" {
		w.errorf(r.Using.Pos, KindValue, "unknown runs.using %q; use one of %s%s", r.Using.Value, strings.Join(usingValues, ", "), suggest(r.Using.Value, usingValues))
	}
	var known []string
	if kind != "" {
		known = runsKeys[kind]
	}
	w.mapping(n, "runs", known, func(k *String, v *yaml.Node) { w.runsKey(r, k, v) })
	w.checkRuns(r, kind)
	return r
}

// newestNode is the newest node runtime of usingValues.
const newestNode = 24

// isNewerNode reports whether using names a node runtime newer than
// Vermont's, such as node26 (node8 is older, and an error).
func isNewerNode(using string) bool {
	v, ok := strings.CutPrefix(using, "node")
	n, err := strconv.Atoi(v)
	return ok && err == nil && n > newestNode
}

func usingKind(using string) string {
	switch {
	case using == "composite" || using == "docker":
		return using
	case nodeRuntimes[using]:
		return "node"
	}
	return ""
}

func (w *walker) runsKey(r *Runs, k *String, v *yaml.Node) {
	kw := "runs." + k.Value
	switch k.Value {
	case "main":
		r.Main = w.nonEmpty(v, kw)
	case "pre":
		r.Pre = w.nonEmpty(v, kw)
	case "post":
		r.Post = w.nonEmpty(v, kw)
	case "pre-if":
		r.PreIf = w.cond(v, kw)
	case "post-if":
		r.PostIf = w.cond(v, kw)
	case "steps":
		r.Steps = w.steps(v, kw)
		w.checkStepIDs(r.Steps)
	case "image":
		r.Image = w.nonEmpty(v, kw)
	case "entrypoint":
		r.Entrypoint = w.str(v, kw)
	case "pre-entrypoint":
		r.PreEntrypoint = w.str(v, kw)
	case "post-entrypoint":
		r.PostEntrypoint = w.str(v, kw)
	case "args":
		r.Args = w.strings(v, kw)
	case "env":
		r.Env = w.stringMap(v, kw)
	}
}

// checkRuns reports keys each kind of action needs.
func (w *walker) checkRuns(r *Runs, kind string) {
	switch kind {
	case "node":
		if r.Main == nil {
			w.errorf(r.Pos, KindKey, `missing key "main" in runs: a JavaScript action needs the file to run`)
		}
	case "docker":
		if r.Image == nil {
			w.errorf(r.Pos, KindKey, `missing key "image" in runs: use "Dockerfile" or docker://image`)
		}
	case "composite":
		if r.Steps == nil {
			w.errorf(r.Pos, KindKey, `missing key "steps" in runs of a composite action`)
		}
		for _, s := range r.Steps {
			if s.Run != nil && s.Shell == nil {
				w.errorf(s.Run.Pos, KindKey, `a run step of a composite action needs "shell"`)
			}
		}
	}
}

func (w *walker) branding(n *yaml.Node) *Branding {
	b := &Branding{Pos: posOf(w.resolve(n))}
	w.mapping(n, "branding", []string{"icon", "color"}, func(k *String, v *yaml.Node) {
		if k.Value == "icon" {
			b.Icon = w.str(v, "branding.icon")
		} else {
			b.Color = w.str(v, "branding.color")
		}
	})
	return b
}
