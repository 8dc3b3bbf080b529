package web

import (
	"bytes"
	"html/template"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/renderer/html"
)

// md renders GitHub-flavoured Markdown (tables, task lists,
// strikethrough, autolinks). Raw HTML in it is passed on to the
// sanitizer, as GitHub allows some HTML in summaries.
var md = goldmark.New(goldmark.WithExtensions(extension.GFM), goldmark.WithRendererOptions(html.WithUnsafe()))

// policy is what a summary's HTML may hold: bluemonday's user-generated
// content policy (no scripts, no event handlers, no javascript: URLs, no
// styles), with GFM's task list checkboxes.
var policy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowAttrs("type").Matching(bluemonday.SpaceSeparatedTokens).OnElements("input")
	p.AllowAttrs("checked", "disabled").OnElements("input")
	p.RequireNoReferrerOnLinks(true)
	return p
}()

// renderSummary is a step summary's Markdown as sanitized HTML.
func renderSummary(markdown string) template.HTML {
	var buf bytes.Buffer
	if err := md.Convert([]byte(markdown), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(markdown))
	}
	return template.HTML(policy.SanitizeBytes(buf.Bytes()))
}
