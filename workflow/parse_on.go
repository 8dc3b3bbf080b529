package workflow

import (
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// eventSpec says which keys an event accepts under on.<event> and which
// activity types it has (nil: any, as for repository_dispatch).
type eventSpec struct {
	keys  []string
	types []string
}

var (
	prTypes = []string{"assigned", "unassigned", "labeled", "unlabeled", "opened", "edited", "closed",
		"reopened", "synchronize", "converted_to_draft", "ready_for_review", "locked", "unlocked",
		"review_requested", "review_request_removed", "auto_merge_enabled", "auto_merge_disabled",
		"milestoned", "demilestoned", "enqueued", "dequeued"}
	crudTypes  = []string{"created", "edited", "deleted"}
	typesOnly  = []string{"types"}
	filterKeys = []string{"branches", "branches-ignore", "paths", "paths-ignore"}
)

// events lists every event of https://docs.github.com/en/actions/reference/workflows-and-actions/events-that-trigger-workflows.
var events = map[string]eventSpec{
	"branch_protection_rule":      {typesOnly, crudTypes},
	"check_run":                   {typesOnly, []string{"created", "rerequested", "completed", "requested_action"}},
	"check_suite":                 {typesOnly, []string{"completed"}},
	"create":                      {},
	"delete":                      {},
	"deployment":                  {},
	"deployment_status":           {},
	"discussion":                  {typesOnly, []string{"created", "edited", "deleted", "transferred", "pinned", "unpinned", "labeled", "unlabeled", "locked", "unlocked", "category_changed", "answered", "unanswered"}},
	"discussion_comment":          {typesOnly, crudTypes},
	"fork":                        {},
	"gollum":                      {},
	"image_version":               {[]string{"types", "names", "versions"}, nil},
	"issue_comment":               {typesOnly, crudTypes},
	"issues":                      {typesOnly, []string{"opened", "edited", "deleted", "transferred", "pinned", "unpinned", "closed", "reopened", "assigned", "unassigned", "labeled", "unlabeled", "locked", "unlocked", "milestoned", "demilestoned", "typed", "untyped"}},
	"label":                       {typesOnly, crudTypes},
	"merge_group":                 {typesOnly, []string{"checks_requested"}},
	"milestone":                   {typesOnly, []string{"created", "closed", "opened", "edited", "deleted"}},
	"page_build":                  {},
	"project":                     {typesOnly, []string{"created", "closed", "reopened", "edited", "deleted"}},
	"project_card":                {typesOnly, []string{"created", "moved", "converted", "edited", "deleted"}},
	"project_column":              {typesOnly, []string{"created", "updated", "moved", "deleted"}},
	"public":                      {},
	"pull_request":                {append([]string{"types"}, filterKeys...), prTypes},
	"pull_request_review":         {typesOnly, []string{"submitted", "edited", "dismissed"}},
	"pull_request_review_comment": {typesOnly, crudTypes},
	"pull_request_target":         {append([]string{"types"}, filterKeys...), prTypes},
	"push":                        {[]string{"branches", "branches-ignore", "tags", "tags-ignore", "paths", "paths-ignore"}, nil},
	"registry_package":            {typesOnly, []string{"published", "updated"}},
	"release":                     {typesOnly, []string{"published", "unpublished", "created", "edited", "deleted", "prereleased", "released"}},
	"repository_dispatch":         {typesOnly, nil},
	"schedule":                    {},
	"status":                      {},
	"watch":                       {typesOnly, []string{"started"}},
	"workflow_call":               {[]string{"inputs", "outputs", "secrets"}, nil},
	"workflow_dispatch":           {[]string{"inputs"}, nil},
	"workflow_run":                {[]string{"types", "workflows", "branches", "branches-ignore"}, []string{"completed", "requested", "in_progress"}},
}

// eventNames is the sorted list of event names, for suggestions.
var eventNames = func() []string {
	out := make([]string, 0, len(events))
	for k := range events {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}()

// events reads on: as a string, a list or a mapping.
func (w *walker) events(n *yaml.Node) []*Event {
	n = w.resolve(n)
	var out []*Event
	add := func(name *String, v *yaml.Node) {
		if e := w.event(name, v); e != nil {
			out = append(out, e)
		}
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if s := w.scalar(n, "on"); s != nil {
			add(s, nil)
		}
	case yaml.SequenceNode:
		seen := map[string]bool{}
		w.sequence(n, "on", func(_ int, e *yaml.Node) {
			s := w.scalar(e, "event name")
			if s != nil && seen[s.Value] {
				w.errorf(s.Pos, KindEvent, "event %q is listed twice", s.Value)
			} else if s != nil {
				seen[s.Value] = true
				add(s, nil)
			}
		})
	case yaml.MappingNode:
		w.mapping(n, "on", nil, add)
	default:
		w.errorf(posOf(n), KindType, "on must be an event name, a list of events or a mapping, found %s", kindName(n))
	}
	if len(out) == 0 && n.Kind != yaml.ScalarNode {
		w.errorf(posOf(n), KindEvent, "on must name at least one event")
	}
	return out
}

// event reads one on.<event>; v is nil for the string and list forms.
func (w *walker) event(name *String, v *yaml.Node) *Event {
	spec, ok := events[name.Value]
	if !ok {
		// GitHub adds events; one newer than this list is shown, not
		// refused, and its keys are not checked.
		w.warnf(name.Pos, KindEvent, "unknown event %q, which Vermont cannot trigger%s", name.Value, suggest(name.Value, eventNames))
		spec.keys = nil
		spec.types = nil
	}
	e := &Event{Name: *name, Pos: name.Pos}
	if v == nil {
		if name.Value == "schedule" {
			w.errorf(name.Pos, KindEvent, "schedule needs a list of cron entries, e.g. schedule: [{cron: '30 5 * * 1'}]")
		}
		return e
	}
	if v = w.resolve(v); !isNull(v) {
		e.Pos = posOf(v)
	}
	if name.Value == "schedule" {
		w.schedules(e, v)
		return e
	}
	w.mapping(v, "on."+name.Value, spec.keys, func(k *String, v *yaml.Node) {
		w.eventKey(e, spec, k, v)
	})
	w.checkFilterPairs(e)
	return e
}

// eventKey reads one key of on.<event>.
func (w *walker) eventKey(e *Event, spec eventSpec, k *String, v *yaml.Node) {
	what := "on." + e.Name.Value + "." + k.Value
	switch k.Value {
	case "types":
		e.Types = w.activityTypes(v, what, spec.types)
	case "branches":
		e.Branches = w.filter(v, what)
	case "branches-ignore":
		e.BranchesIgnore = w.filter(v, what)
	case "tags":
		e.Tags = w.filter(v, what)
	case "tags-ignore":
		e.TagsIgnore = w.filter(v, what)
	case "paths":
		e.Paths = w.filter(v, what)
	case "paths-ignore":
		e.PathsIgnore = w.filter(v, what)
	case "workflows":
		e.Workflows = w.stringList(v, what)
	case "names", "versions":
		w.stringList(v, what)
	case "inputs":
		e.Inputs = w.inputs(v, what, e.Name.Value == "workflow_call")
	case "outputs":
		e.Outputs = w.callOutputs(v, what)
	case "secrets":
		e.Secrets = w.callSecrets(v, what)
	}
}

func (w *walker) activityTypes(n *yaml.Node, what string, known []string) []String {
	types := w.stringList(n, what)
	for _, t := range types {
		if known != nil && !contains(known, t.Value) {
			// GitHub adds activity types (issues: field_added); an unknown
			// one is shown, not refused.
			w.warnf(t.Pos, KindEvent, "unknown activity type %q in %s; known types are %s%s",
				t.Value, what, strings.Join(known, ", "), suggest(t.Value, known))
		}
	}
	return types
}

func (w *walker) filter(n *yaml.Node, what string) *Filter {
	f := &Filter{Pos: posOf(w.resolve(n)), Patterns: w.stringList(n, what)}
	for _, p := range f.Patterns {
		if err := checkGlob(p.Value); err != "" {
			w.errorf(p.Pos, KindEvent, "bad pattern %q in %s: %s", p.Value, what, err)
		}
	}
	return f
}

// checkFilterPairs reports filters used together with their -ignore form,
// which GitHub rejects.
func (w *walker) checkFilterPairs(e *Event) {
	pairs := []struct {
		name      string
		inc, excl *Filter
	}{{"branches", e.Branches, e.BranchesIgnore}, {"tags", e.Tags, e.TagsIgnore}, {"paths", e.Paths, e.PathsIgnore}}
	for _, p := range pairs {
		if p.inc != nil && p.excl != nil {
			w.errorf(p.excl.Pos, KindEvent, "on.%s cannot use both %s and %s-ignore; use %s with !patterns to exclude",
				e.Name.Value, p.name, p.name, p.name)
		}
	}
	if e.Name.Value == "workflow_run" && len(e.Workflows) == 0 {
		w.errorf(e.Pos, KindEvent, `on.workflow_run needs "workflows", the names of the workflows to follow`)
	}
}

// schedules reads on.schedule: a list of {cron: "…"}.
func (w *walker) schedules(e *Event, n *yaml.Node) {
	w.sequence(n, "on.schedule", func(_ int, item *yaml.Node) {
		var cron *String
		w.mapping(item, "on.schedule element", []string{"cron", "timezone"}, func(k *String, v *yaml.Node) {
			if k.Value == "cron" {
				cron = w.scalar(v, "cron")
			} else {
				w.scalar(v, "timezone")
			}
		})
		if cron == nil {
			if item.Kind == yaml.MappingNode {
				w.errorf(posOf(item), KindKey, `missing key "cron" in on.schedule element`)
			}
			return
		}
		if err := checkCron(cron.Value); err != nil {
			w.errorf(cronPos(cron, err), KindCron, "bad cron %q: %s", cron.Value, err.msg)
		}
		e.Schedules = append(e.Schedules, *cron)
	})
	if len(e.Schedules) == 0 && w.resolve(n).Kind == yaml.SequenceNode {
		w.errorf(posOf(w.resolve(n)), KindEvent, "on.schedule needs at least one cron entry")
	}
}

var inputTypes = map[bool][]string{
	false: {"string", "boolean", "choice", "number", "environment"},
	true:  {"string", "boolean", "number"},
}

// inputs reads on.workflow_dispatch.inputs or on.workflow_call.inputs.
func (w *walker) inputs(n *yaml.Node, what string, call bool) []*Input {
	keys := []string{"description", "required", "default", "type", "options"}
	if call {
		keys = keys[:4]
	}
	var out []*Input
	w.mapping(n, what, nil, func(name *String, v *yaml.Node) {
		in := &Input{Name: *name, Pos: posOf(w.resolve(v))}
		w.checkID(name, "input")
		iw := what + "." + name.Value
		w.mapping(v, iw, keys, func(k *String, v *yaml.Node) {
			switch k.Value {
			case "description":
				in.Description = w.str(v, iw+".description")
			case "required":
				in.Required = w.boolean(v, iw+".required")
			case "default":
				if call {
					defer w.at("on.workflow_call.inputs.<inputs_id>.default")()
				}
				in.Default = w.str(v, iw+".default")
			case "type":
				in.Type = w.scalar(v, iw+".type")
			case "options":
				in.Options = w.strings(v, iw+".options")
			}
		})
		w.checkInput(in, iw, call)
		out = append(out, in)
	})
	return out
}

// checkInput checks an input's type against its options and default.
func (w *walker) checkInput(in *Input, what string, call bool) {
	typ := "string"
	if in.Type != nil {
		typ = in.Type.Value
		if call && !contains(inputTypes[true], typ) && contains(inputTypes[false], typ) {
			w.errorf(in.Type.Pos, KindValue, "input type %q of %s is only for workflow_dispatch; use one of %s",
				typ, what, strings.Join(inputTypes[call], ", "))
			return
		}
		if !contains(inputTypes[call], typ) {
			// GitHub has added input types (number, environment); an
			// unknown one is shown and read as a string.
			w.warnf(in.Type.Pos, KindValue, "unknown input type %q in %s, read as a string; known types are %s%s",
				typ, what, strings.Join(inputTypes[call], ", "), suggest(typ, inputTypes[call]))
			return
		}
	} else if call {
		w.errorf(in.Pos, KindKey, `missing key "type" in %s: inputs of workflow_call need one of boolean, number, string`, what)
	}
	if typ == "choice" && len(in.Options) == 0 {
		w.errorf(in.Pos, KindValue, "%s is a choice input and needs options", what)
	}
	if in.Options != nil && typ != "choice" {
		w.errorf(in.Options[0].Pos, KindValue, "%s has options but its type is %q, not \"choice\"", what, typ)
	}
	if in.Default == nil || in.Default.ContainsExpr() {
		return
	}
	d := in.Default.Value
	switch {
	case typ == "choice" && len(in.Options) > 0 && !containsString(in.Options, d):
		w.errorf(in.Default.Pos, KindValue, "default %q of %s is not one of its options", d, what)
	case typ == "boolean" && d != "true" && d != "false":
		w.errorf(in.Default.Pos, KindValue, "default of boolean %s must be true or false, found %q", what, d)
	case typ == "number" && !isNumber(d):
		w.errorf(in.Default.Pos, KindValue, "default of number %s must be a number, found %q", what, d)
	}
}

func containsString(list []String, s string) bool {
	for _, x := range list {
		if x.Value == s {
			return true
		}
	}
	return false
}

func isNumber(s string) bool {
	_, err := parseYAMLNumber(s)
	return err == nil
}

// callOutputs reads on.workflow_call.outputs.
func (w *walker) callOutputs(n *yaml.Node, what string) []*Output {
	var out []*Output
	w.mapping(n, what, nil, func(name *String, v *yaml.Node) {
		o := &Output{Name: *name, Pos: posOf(w.resolve(v))}
		ow := what + "." + name.Value
		w.mapping(v, ow, []string{"description", "value"}, func(k *String, v *yaml.Node) {
			if k.Value == "description" {
				o.Description = w.str(v, ow+".description")
			} else {
				defer w.at("on.workflow_call.outputs.<output_id>.value")()
				o.Value = w.str(v, ow+".value")
			}
		})
		if o.Value == nil {
			w.errorf(o.Pos, KindKey, `missing key "value" in %s`, ow)
		}
		out = append(out, o)
	})
	return out
}

// callSecrets reads on.workflow_call.secrets.
func (w *walker) callSecrets(n *yaml.Node, what string) []*Secret {
	var out []*Secret
	w.mapping(n, what, nil, func(name *String, v *yaml.Node) {
		s := &Secret{Name: *name, Pos: posOf(w.resolve(v))}
		w.checkID(name, "secret")
		sw := what + "." + name.Value
		w.mapping(v, sw, []string{"description", "required"}, func(k *String, v *yaml.Node) {
			if k.Value == "description" {
				s.Description = w.str(v, sw+".description")
			} else {
				s.Required = w.boolean(v, sw+".required")
			}
		})
		out = append(out, s)
	})
	return out
}
