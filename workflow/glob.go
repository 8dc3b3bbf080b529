package workflow

import (
	"regexp"
	"strings"
)

// Filter patterns use GitHub's glob syntax:
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#filter-pattern-cheat-sheet
//
//	*    zero or more characters, but not /
//	**   zero or more of any character
//	?    zero or one of the preceding character
//	+    one or more of the preceding character
//	[]   one character listed or in a range (a-z)
//	!    at the start of a pattern: negate it
//	\    escapes the next character

// checkGlob returns a description of what is wrong with pattern, or "".
func checkGlob(pattern string) string {
	if strings.TrimPrefix(pattern, "!") == "" {
		return "pattern is empty"
	}
	_, err := globSource(pattern)
	return err
}

// globRegexp compiles a filter pattern (without its leading "!") to an
// anchored regular expression.
func globRegexp(pattern string) (*regexp.Regexp, string) {
	src, msg := globSource(pattern)
	if msg != "" {
		return nil, msg
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, "invalid pattern: " + err.Error()
	}
	return re, ""
}

// globSource translates a filter pattern (without its leading "!") to the
// source of an anchored regular expression that always compiles.
func globSource(pattern string) (string, string) {
	pattern = strings.TrimPrefix(pattern, "!")
	repeated := true // the last token cannot take ? or +
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				i++
				if i+1 < len(pattern) && pattern[i+1] == '/' {
					i++
					b.WriteString("(?:.*/)?")
				} else {
					b.WriteString(".*")
				}
			} else {
				b.WriteString("[^/]*")
			}
			repeated = true
			continue
		case '?', '+':
			if repeated {
				return "", "\"" + string(c) + "\" must follow a character it repeats; escape it with \\ to match it literally"
			}
			b.WriteByte(c)
			repeated = true
			continue
		case '[':
			end := strings.IndexByte(pattern[i+1:], ']')
			if end < 1 {
				return "", "\"[\" has no matching \"]\""
			}
			class := pattern[i+1 : i+1+end]
			b.WriteString("[" + strings.ReplaceAll(regexp.QuoteMeta(class), `\-`, "-") + "]")
			i += end + 1
		case '\\':
			if i+1 >= len(pattern) {
				return "", "pattern ends with an escaping \\"
			}
			i++
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		}
		repeated = false
	}
	b.WriteString("$")
	return b.String(), ""
}

// matchFilter applies a list of patterns to name in order, as GitHub does:
// a pattern that matches includes name, a matching !pattern excludes it
// again, and the last match wins.
func matchFilter(patterns []String, name string) bool {
	matched := false
	for _, p := range patterns {
		neg := strings.HasPrefix(p.Value, "!")
		re, err := globRegexp(p.Value)
		if err != "" {
			continue
		}
		if re.MatchString(name) {
			matched = !neg
		}
	}
	return matched
}
