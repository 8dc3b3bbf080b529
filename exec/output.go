package exec

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// stepOutput turns a step's stdout and stderr into log events: it splits
// lines (so masking sees whole lines, also when a secret is split across
// writes), runs workflow commands, and masks.
type stepOutput struct {
	j      *jobRun
	step   string
	mu     sync.Mutex
	stop   string // the ::stop-commands:: token while commands are off
	echo   bool
	unsafe bool // ACTIONS_ALLOW_UNSECURE_COMMANDS
	failed bool // a command failed, which fails the step
	// outputs and state set by the deprecated set-output and save-state.
	outputs map[string]string
	state   map[string]string
	bufs    map[string]*lineBuffer
	// matchers are the step's problem matchers, with their state.
	matchers []*issueMatcher
}

func (j *jobRun) newOutput(step string, env []string) *stepOutput {
	o := &stepOutput{j: j, step: step, bufs: map[string]*lineBuffer{}, matchers: j.matchers.fresh()}
	for _, kv := range env {
		if kv == "ACTIONS_ALLOW_UNSECURE_COMMANDS=true" {
			o.unsafe = true
		}
	}
	return o
}

// lineBuffer holds the unfinished last line of one stream.
type lineBuffer struct {
	o      *stepOutput
	stream string
	buf    []byte
}

func (o *stepOutput) writer(stream string) *lineBuffer {
	b := &lineBuffer{o: o, stream: stream}
	o.bufs[stream] = b
	return b
}

// maxLine bounds a line held in memory; a longer one is emitted in pieces.
const maxLine = 1 << 20

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.o.mu.Lock()
	defer b.o.mu.Unlock()
	b.buf = append(b.buf, p...)
	for {
		i := strings.IndexByte(string(b.buf), '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSuffix(string(b.buf[:i]), "\r")
		b.buf = b.buf[i+1:]
		b.o.line(b.stream, line)
	}
	if len(b.buf) > maxLine {
		b.o.line(b.stream, string(b.buf))
		b.buf = b.buf[:0]
	}
	return len(p), nil
}

// flush emits what is left of unfinished lines.
func (o *stepOutput) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range o.bufs {
		if len(b.buf) > 0 {
			o.line(b.stream, strings.TrimSuffix(string(b.buf), "\r"))
			b.buf = nil
		}
	}
}

// line handles one line; o.mu is held.
func (o *stepOutput) line(stream, line string) {
	if o.stop != "" {
		if strings.TrimSpace(line) == "::"+o.stop+"::" {
			o.stop = ""
			return
		}
		o.output(stream, line)
		return
	}
	cmd, ok := parseCommand(line)
	if !ok {
		o.output(stream, line)
		return
	}
	if o.echo {
		o.emit(stream, "command", line)
	}
	o.command(stream, line, cmd)
}

// command runs one workflow command ("Workflow commands for GitHub
// Actions").
func (o *stepOutput) command(stream, line string, c workflowCommand) {
	j := o.j
	switch c.Name {
	case "add-mask":
		j.r.masker.Add(c.Data)
	case "group":
		o.emit(stream, "group", c.Data)
	case "endgroup":
		o.emit(stream, "endgroup", "")
	case "debug":
		if j.r.debug {
			o.emit(stream, "debug", c.Data)
		}
	case "notice", "warning", "error":
		o.annotate(stream, c.Name, c)
	case "add-matcher", "remove-matcher":
		var err error
		if c.Name == "add-matcher" {
			err = o.addMatcher(stream, c.Data)
		} else {
			err = o.removeMatcher(stream, c)
		}
		if err != nil {
			o.failed = true
			o.emit(stream, "error", fmt.Sprintf("Unable to process command '%s' successfully.", line))
			o.emit(stream, "error", err.Error())
		}
	case "stop-commands":
		o.stop = c.Data
	case "echo":
		o.echo = strings.EqualFold(c.Data, "on")
	case "set-output":
		o.emit(stream, "warning", "The `set-output` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/")
		if o.outputs == nil {
			o.outputs = map[string]string{}
		}
		o.outputs[c.Props["name"]] = c.Data
	case "save-state":
		o.emit(stream, "warning", "The `save-state` command is deprecated and will be disabled soon. Please upgrade to using Environment Files. For more information see: https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/")
		if o.state == nil {
			o.state = map[string]string{}
		}
		o.state[c.Props["name"]] = c.Data
	case "set-env", "add-path":
		if !o.unsafe {
			o.failed = true
			o.emit(stream, "error", fmt.Sprintf("Unable to process command '%s' successfully.", line))
			o.emit(stream, "error", fmt.Sprintf("The `%s` command is disabled. Please upgrade to using Environment Files or opt into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` environment variable to `true`. For more information see: https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/", c.Name))
			return
		}
		if c.Name == "set-env" {
			j.setEnv(c.Props["name"], c.Data)
		} else {
			j.prependPath(c.Data)
		}
	default:
		o.emit(stream, "", line) // not a command GitHub knows: printed as is
	}
}

// annotation renders an annotation's location and title before its message.
func annotation(c workflowCommand) string {
	var loc strings.Builder
	if f := c.Props["file"]; f != "" {
		loc.WriteString(f)
		for _, k := range []string{"line", "col"} {
			if v := c.Props[k]; v != "" {
				loc.WriteString(":" + v)
			}
		}
		loc.WriteString(": ")
	}
	if t := c.Props["title"]; t != "" {
		loc.WriteString(t + ": ")
	}
	return loc.String() + c.Data
}

// output emits a line that is not a command: as an annotation when a
// problem matcher matches it, else as it is.
func (o *stepOutput) output(stream, line string) {
	if level, c, ok := o.matchLine(line); ok {
		o.annotate(stream, level, c)
		return
	}
	o.emit(stream, "", line)
}

// annotate emits c as an annotation line of level: the log line, and the
// annotation with its location.
func (o *stepOutput) annotate(stream, level string, c workflowCommand) {
	num := func(k string) int { n, _ := strconv.Atoi(c.Props[k]); return n }
	a := &Annotation{Message: c.Data, Title: c.Props["title"], File: c.Props["file"],
		Line: num("line"), Col: num("col"), EndLine: num("endLine"), EndColumn: num("endColumn")}
	o.j.r.emit(Event{Kind: Log, Job: o.j.name, Step: o.step, Stream: stream, Level: level, Line: annotation(c), Annotation: a})
}

func (o *stepOutput) emit(stream, level, line string) {
	o.j.r.emit(Event{Kind: Log, Job: o.j.name, Step: o.step, Stream: stream, Level: level, Line: line})
}
