package exec

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Problem matchers scan a step's output for known error and warning shapes
// and turn matching lines into annotations. The file format is documented
// in actions/toolkit docs/problem-matchers.md; the behaviour follows
// actions/runner src/Runner.Worker/IssueMatcher.cs (config, validation,
// multi-line state), src/Runner.Worker/Handlers/OutputManager.cs (colour
// codes stripped, first matching matcher wins, the issue's file made
// relative) and the add-matcher and remove-matcher commands of
// src/Runner.Worker/ActionCommandManager.cs, at commit
// 258d6c857db3519913f7deb6004b60172f8043ae.

// matcherFile is a problem-matcher JSON file.
type matcherFile struct {
	Matchers []matcherConfig `json:"problemMatcher"`
}

// matcherConfig is one matcher: an owner, a default severity and fromPath,
// and one pattern or a sequence of them for multi-line messages.
type matcherConfig struct {
	Owner    string          `json:"owner"`
	Severity string          `json:"severity"`
	FromPath string          `json:"fromPath"`
	Patterns []patternConfig `json:"pattern"`
}

// patternConfig is one pattern: a regexp and the groups that hold each
// property.
type patternConfig struct {
	Regexp   string `json:"regexp"`
	File     *int   `json:"file"`
	Line     *int   `json:"line"`
	Column   *int   `json:"column"`
	Severity *int   `json:"severity"`
	Code     *int   `json:"code"`
	Message  *int   `json:"message"`
	FromPath *int   `json:"fromPath"`
	Loop     bool   `json:"loop"`
}

// The properties a pattern can capture, as indices into issueMatch.
const (
	propFile = iota
	propLine
	propColumn
	propSeverity
	propCode
	propMessage
	propFromPath
	numProps
)

var propNames = [numProps]string{"file", "line", "column", "severity", "code", "message", "fromPath"}

func (p patternConfig) groups() [numProps]*int {
	return [numProps]*int{p.File, p.Line, p.Column, p.Severity, p.Code, p.Message, p.FromPath}
}

// issuePattern is a compiled pattern; group[i] is -1 when the pattern does
// not capture property i.
type issuePattern struct {
	re    *regexp.Regexp
	group [numProps]int
	loop  bool
}

// issueMatcher is a compiled matcher with its multi-line state: state[i]
// is the running match after pattern i.
type issueMatcher struct {
	owner, severity, fromPath string
	patterns                  []issuePattern
	state                     []*issueMatch
}

// issueMatch is what the patterns of one match captured so far.
type issueMatch struct {
	value [numProps]string
	set   [numProps]bool
}

// readMatcherFile reads a matcher file without validating it, which is
// all remove-matcher does.
func readMatcherFile(path string) (matcherFile, error) {
	var f matcherFile
	src, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := json.Unmarshal(src, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// parseMatcherFile reads and validates a matcher file as the runner does,
// with its error messages.
func parseMatcherFile(path string) ([]*issueMatcher, error) {
	f, err := readMatcherFile(path)
	if err != nil {
		return nil, err
	}
	return compileMatchers(f)
}

// compileMatchers validates and compiles a file's matchers.
func compileMatchers(f matcherFile) ([]*issueMatcher, error) {
	owners := make(map[string]bool)
	var out []*issueMatcher
	for _, c := range f.Matchers {
		m, err := compileMatcher(c)
		if err != nil {
			return nil, err
		}
		if owners[strings.ToLower(c.Owner)] {
			return nil, fmt.Errorf("Duplicate owner name '%s'", c.Owner)
		}
		owners[strings.ToLower(c.Owner)] = true
		out = append(out, m)
	}
	return out, nil
}

// compileMatcher validates one matcher (IssueMatcherConfig.Validate) and
// compiles its patterns.
func compileMatcher(c matcherConfig) (*issueMatcher, error) {
	if c.Owner == "" {
		return nil, errors.New("Owner must not be empty")
	}
	switch strings.ToLower(c.Severity) {
	case "", "error", "warning", "notice":
	default:
		return nil, fmt.Errorf("Matcher '%s' contains unexpected default severity '%s'", c.Owner, c.Severity)
	}
	if len(c.Patterns) == 0 {
		return nil, fmt.Errorf("Matcher '%s' does not contain any patterns", c.Owner)
	}
	m := &issueMatcher{owner: c.Owner, severity: c.Severity, fromPath: c.FromPath}
	var seen [numProps]bool
	for i, pc := range c.Patterns {
		isFirst, isLast := i == 0, i == len(c.Patterns)-1
		if pc.Loop && (isFirst || !isLast) {
			return nil, errors.New("Only the last pattern in a multiline matcher may set 'loop'")
		}
		if pc.Loop && pc.Message == nil {
			return nil, errors.New("The loop pattern must set 'message'")
		}
		re, err := regexp.Compile(pc.Regexp)
		if err != nil {
			return nil, fmt.Errorf("Matcher '%s': pattern %d: %w", c.Owner, i+1, err)
		}
		p := issuePattern{re: re, loop: pc.Loop}
		groupCount := re.NumSubexp() + 1
		for k, g := range pc.groups() {
			p.group[k] = -1
			if g == nil {
				continue
			}
			if seen[k] {
				return nil, fmt.Errorf("The property '%s' is set twice", propNames[k])
			}
			if *g < 0 || *g >= groupCount {
				return nil, fmt.Errorf("The property '%s' is set to %d which is out of range", propNames[k], *g)
			}
			seen[k] = true
			p.group[k] = *g
		}
		m.patterns = append(m.patterns, p)
	}
	if !seen[propMessage] {
		return nil, errors.New("At least one pattern must set 'message'")
	}
	m.reset()
	return m, nil
}

// clone is a fresh copy of m, without state: each step starts its
// matchers anew, as each step gets its own OutputManager.
func (m *issueMatcher) clone() *issueMatcher {
	c := *m
	c.reset()
	return &c
}

func (m *issueMatcher) reset() { m.state = make([]*issueMatch, len(m.patterns)-1) }

// newMatch records what pattern p captured of groups, on top of running
// (which wins where it has a value, as the runner's `??` does).
func newMatch(running *issueMatch, p issuePattern, groups []string) *issueMatch {
	var im issueMatch
	for k := range numProps {
		switch {
		case running != nil && running.set[k]:
			im.value[k], im.set[k] = running.value[k], true
		case p.group[k] >= 0 && p.group[k] < len(groups):
			im.value[k], im.set[k] = groups[p.group[k]], true
		}
	}
	return &im
}

// match feeds one line to the matcher and returns a complete match, if the
// line finishes one (IssueMatcher.Match).
func (m *issueMatcher) match(line string) *issueMatch {
	if len(m.patterns) == 1 {
		if g := m.patterns[0].re.FindStringSubmatch(line); g != nil {
			return m.withDefaults(newMatch(nil, m.patterns[0], g))
		}
		return nil
	}
	for i := len(m.patterns) - 1; i >= 0; i-- {
		var running *issueMatch
		if i > 0 {
			running = m.state[i-1]
		}
		if i != 0 && running == nil {
			continue
		}
		p := m.patterns[i]
		isLast := i == len(m.patterns)-1
		g := p.re.FindStringSubmatch(line)
		switch {
		case g != nil && isLast:
			m.reset()
			if p.loop {
				m.state[i-1] = running
			}
			return m.withDefaults(newMatch(running, p, g))
		case g != nil:
			m.state[i] = newMatch(running, p, g)
		case isLast:
			m.state[i-1] = nil
		default:
			m.state[i] = nil
		}
	}
	return nil
}

func (m *issueMatcher) withDefaults(im *issueMatch) *issueMatch {
	if im.value[propSeverity] == "" && m.severity != "" {
		im.value[propSeverity], im.set[propSeverity] = m.severity, true
	}
	if im.value[propFromPath] == "" && m.fromPath != "" {
		im.value[propFromPath], im.set[propFromPath] = m.fromPath, true
	}
	return im
}

// matcherSet is a job's registered matchers, newest first; later steps
// start with them.
type matcherSet struct {
	mu       sync.Mutex
	matchers []*issueMatcher
}

// add puts ms first, replacing matchers of the same owners
// (ExecutionContext.AddMatchers).
func (s *matcherSet) add(ms []*issueMatcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.matchers = withMatchers(s.matchers, ms)
}

// remove drops the matchers of owners (ExecutionContext.RemoveMatchers).
func (s *matcherSet) remove(owners []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.matchers = withoutOwners(s.matchers, owners)
}

// fresh returns stateless copies of the job's matchers for a new step.
func (s *matcherSet) fresh() []*issueMatcher {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*issueMatcher, len(s.matchers))
	for i, m := range s.matchers {
		out[i] = m.clone()
	}
	return out
}

func withMatchers(list, add []*issueMatcher) []*issueMatcher {
	owners := make([]string, len(add))
	out := make([]*issueMatcher, 0, len(add)+len(list))
	for i, m := range add {
		owners[i] = m.owner
		out = append(out, m.clone())
	}
	return append(out, withoutOwners(list, owners)...)
}

func withoutOwners(list []*issueMatcher, owners []string) []*issueMatcher {
	var out []*issueMatcher
	for _, m := range list {
		drop := false
		for _, o := range owners {
			drop = drop || strings.EqualFold(m.owner, o)
		}
		if !drop {
			out = append(out, m)
		}
	}
	return out
}

// colorCode is the runner's _colorCodeRegex: ANSI colour codes are removed
// before matching.
var colorCode = regexp.MustCompile(`\x1b\[[0-9;]*m?`)

// matchLine runs the step's matchers over a line and reports the
// annotation it makes, if any (OutputManager.OnDataReceived).
func (o *stepOutput) matchLine(line string) (level string, c workflowCommand, ok bool) {
	if len(o.matchers) == 0 {
		return "", workflowCommand{}, false
	}
	if strings.Contains(line, "\x1b[") {
		line = colorCode.ReplaceAllString(line, "")
	}
	for _, m := range o.matchers {
		im := m.match(line)
		if im == nil {
			continue
		}
		for _, other := range o.matchers {
			if other != m {
				other.reset()
			}
		}
		if level, c, ok := o.j.issue(im); ok {
			return level, c, true
		}
	}
	return "", workflowCommand{}, false
}

// issue turns a match into an annotation (OutputManager.ConvertToIssue):
// it needs a message and a known severity; the line and column must be
// numbers; the file is kept when it exists under the workspace, relative
// to it.
func (j *jobRun) issue(im *issueMatch) (string, workflowCommand, bool) {
	msg := im.value[propMessage]
	if strings.TrimSpace(msg) == "" {
		return "", workflowCommand{}, false
	}
	var level string
	switch sev := im.value[propSeverity]; {
	case sev == "" || strings.EqualFold(sev, "error"):
		level = "error"
	case strings.EqualFold(sev, "warning"):
		level = "warning"
	case strings.EqualFold(sev, "notice"):
		level = "notice"
	default:
		return "", workflowCommand{}, false
	}
	c := workflowCommand{Name: level, Props: map[string]string{}, Data: msg}
	for k, name := range map[int]string{propLine: "line", propColumn: "col"} {
		if n, ok := decimal(im.value[k]); ok {
			c.Props[name] = n
		}
	}
	if code := strings.TrimSpace(im.value[propCode]); code != "" {
		c.Props["code"] = code
	}
	if f := j.issueFile(im.value[propFile], im.value[propFromPath]); f != "" {
		c.Props["file"] = f
	}
	return level, c, true
}

// decimal is .NET's int.TryParse with NumberStyles.None: digits only.
func decimal(s string) (string, bool) {
	if s == "" || strings.Trim(s, "0123456789") != "" {
		return "", false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return "", false
	}
	return strconv.Itoa(n), true
}

// issueFile roots file at fromPath's directory, then at the workspace, and
// returns it relative to the workspace with forward slashes, or "" when it
// does not exist there.
func (j *jobRun) issueFile(file, fromPath string) string {
	if strings.TrimSpace(file) == "" {
		return ""
	}
	if strings.TrimSpace(fromPath) != "" && !filepath.IsAbs(file) {
		if d := filepath.Dir(fromPath); d != "." && d != "" {
			file = filepath.Join(d, file)
		}
	}
	if !filepath.IsAbs(file) {
		file = filepath.Join(j.ws, file)
	}
	file = filepath.Clean(file)
	if fi, err := os.Stat(file); err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	rel, err := filepath.Rel(j.ws, file)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return ""
	}
	return filepath.ToSlash(rel)
}

// matcherPath roots a path given to add-matcher or remove-matcher at the
// workspace.
func (j *jobRun) matcherPath(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(j.ws, p)
}

// addMatcher is ::add-matcher::PATH.
func (o *stepOutput) addMatcher(stream, path string) error {
	if path == "" {
		o.emit(stream, "warning", "File path must be specified.")
		return nil
	}
	ms, err := parseMatcherFile(o.j.matcherPath(path))
	if err != nil || len(ms) == 0 {
		return err
	}
	o.j.matchers.add(ms)
	o.matchers = withMatchers(o.matchers, ms)
	if o.j.r.debug {
		var owners []string
		for _, m := range ms {
			owners = append(owners, "'"+m.owner+"'")
		}
		o.emit(stream, "debug", "Added matchers: "+strings.Join(owners, ", ")+". Problem matchers scan action output for known warning or error strings and report these inline.")
	}
	return nil
}

// removeMatcher is ::remove-matcher owner=OWNER:: or ::remove-matcher::PATH.
func (o *stepOutput) removeMatcher(stream string, c workflowCommand) error {
	owner, path := c.Props["owner"], c.Data
	switch {
	case owner != "" && path != "":
		o.emit(stream, "warning", "Either specify an owner name or a file path in ##[remove-matcher] command. Both values cannot be set.")
		return nil
	case owner == "" && path == "":
		o.emit(stream, "warning", "Either an owner name or a file path must be specified in ##[remove-matcher] command.")
		return nil
	}
	owners := []string{owner}
	if owner == "" {
		f, err := readMatcherFile(o.j.matcherPath(path))
		if err != nil {
			return err
		}
		owners = owners[:0]
		for _, m := range f.Matchers {
			owners = append(owners, m.Owner)
		}
	}
	o.j.matchers.remove(owners)
	o.matchers = withoutOwners(o.matchers, owners)
	if o.j.r.debug {
		o.emit(stream, "debug", "Removed matchers: '"+strings.Join(owners, "', '")+"'")
	}
	return nil
}
