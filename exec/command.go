package exec

import (
	"strings"
)

// A workflowCommand is one "::name key=value,...::message" line, as
// documented in "Workflow commands for GitHub Actions".
type workflowCommand struct {
	Name  string
	Props map[string]string
	Data  string
}

// parseCommand parses a stdout line as a workflow command. Leading
// whitespace is allowed, as the runner allows it.
func parseCommand(line string) (workflowCommand, bool) {
	s := strings.TrimLeft(line, " \t")
	if !strings.HasPrefix(s, "::") {
		return workflowCommand{}, false
	}
	s = s[2:]
	end := strings.Index(s, "::")
	if end < 0 {
		return workflowCommand{}, false
	}
	head, data := s[:end], s[end+2:]
	name, props, _ := strings.Cut(head, " ")
	if name == "" {
		return workflowCommand{}, false
	}
	cmd := workflowCommand{Name: name, Data: unescapeData(data)}
	for _, kv := range strings.Split(props, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok || k == "" {
			continue
		}
		if cmd.Props == nil {
			cmd.Props = map[string]string{}
		}
		cmd.Props[k] = unescapeProperty(v)
	}
	return cmd, true
}

var (
	dataUnescaper     = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n")
	propertyUnescaper = strings.NewReplacer("%25", "%", "%0D", "\r", "%0A", "\n", "%3A", ":", "%2C", ",")
)

func unescapeData(s string) string     { return dataUnescaper.Replace(s) }
func unescapeProperty(s string) string { return propertyUnescaper.Replace(s) }
