package web

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/vermont-ci/vermont/server/store"
)

// FuzzLogLine: any stored line renders as a page's line without a panic,
// keeps no escape byte, loses no text that had none, and shows as text:
// the rendered HTML holds no tag but the line's own.
func FuzzLogLine(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[31mred\x1b[0m", "##[group]title", "##[error]<b>x</b>", "\x1b[", "\x1b[1;32;41mx", "[command]echo <script>"} {
		f.Add(s)
	}
	pages, err := parsePages()
	if err != nil {
		f.Fatal(err)
	}
	own := regexp.MustCompile(`</?(div|a|time|span)[ >]`)
	f.Fuzz(func(t *testing.T, text string) {
		l := toLine(store.LogLine{JobID: 1, Step: 2, Number: 7, Time: time.Unix(1, 0), Text: text}, 5)
		got := l.Text()
		if strings.Contains(got, "\x1b") {
			t.Fatalf("an escape byte survived in %q", got)
		}
		if rest := strings.TrimPrefix(got, prefixLabel(l.Level)); !strings.Contains(text, "\x1b") && !strings.HasSuffix(text, rest) {
			t.Fatalf("text %q became %q", text, got)
		}
		if l.ID() != "step-2-3" {
			t.Fatalf("anchor %s", l.ID())
		}
		var buf bytes.Buffer
		if err := pages["job"].ExecuteTemplate(&buf, "line", l); err != nil {
			t.Fatal(err)
		}
		if rest := own.ReplaceAllString(buf.String(), ""); strings.Contains(rest, "<") {
			t.Fatalf("the line's text became markup: %s", buf.String())
		}
		groupLines([]logLine{l, l})
	})
}

// FuzzSummary: no Markdown renders to an element that runs or loads
// code, an event handler, or a script URL, as a browser's tokenizer reads
// the HTML.
func FuzzSummary(f *testing.F) {
	for _, s := range []string{"# t\n\n<script>x()</script>", `<img src=x onerror="x()">`, "[a](javascript:x())",
		"<a href=\"jav&#x09;ascript:x()\">a</a>", "<svg><script>x()</script></svg>", "| a |\n|---|\n| <iframe src=x> |",
		"<details open ontoggle=x()>", "![x](javascript:x())", "<a href=\" JaVaScRiPt:x()\">a</a>"} {
		f.Add(s)
	}
	banned := map[string]bool{"script": true, "iframe": true, "svg": true, "math": true, "object": true, "embed": true,
		"style": true, "form": true, "base": true, "meta": true, "link": true, "frame": true, "noscript": true, "template": true}
	f.Fuzz(func(t *testing.T, md string) {
		out := string(renderSummary(md))
		z := html.NewTokenizer(strings.NewReader(out))
		for {
			tt := z.Next()
			if tt == html.ErrorToken {
				return
			}
			if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tok := z.Token()
			if banned[tok.Data] {
				t.Fatalf("summary %q rendered a <%s>: %s", md, tok.Data, out)
			}
			for _, a := range tok.Attr {
				v := strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1
					}
					return r
				}, strings.ToLower(a.Val))
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" || a.Key == "srcdoc" ||
					((a.Key == "href" || a.Key == "src" || a.Key == "action") &&
						(strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "vbscript:") || strings.HasPrefix(v, "data:"))) {
					t.Fatalf("summary %q rendered %s=%q on <%s>: %s", md, a.Key, a.Val, tok.Data, out)
				}
			}
		}
	})
}
