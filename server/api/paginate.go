package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// page is a list request's per_page and page, as GitHub reads them: per_page
// defaults to 30 and is capped at 100, page starts at 1
// (https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api).
type page struct {
	perPage int
	number  int
}

// maxPerPage is GitHub's largest per_page.
const maxPerPage = 100

// parsePage reads per_page and page from r. GitHub treats values that are
// not numbers, or out of range, as the defaults, rather than failing.
func parsePage(r *http.Request, defaultPerPage int) page {
	p := page{perPage: defaultPerPage, number: 1}
	q := r.URL.Query()
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		p.perPage = min(n, maxPerPage)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		p.number = n
	}
	return p
}

// offset is the index of the page's first item.
func (p page) offset() int { return (p.number - 1) * p.perPage }

// slice returns p's part of items.
func pageOf[T any](p page, items []T) []T {
	start := min(p.offset(), len(items))
	end := min(start+p.perPage, len(items))
	return items[start:end]
}

// setLink sets GitHub's Link header for page p of total items: next and
// last while there are more, first and prev after the first page. The
// URLs keep the request's other query parameters.
func setLink(w http.ResponseWriter, r *http.Request, c *call, p page, total int) {
	last := max(1, (total+p.perPage-1)/p.perPage)
	var links []string
	add := func(n int, rel string) {
		q := r.URL.Query()
		q.Set("per_page", strconv.Itoa(p.perPage))
		q.Set("page", strconv.Itoa(n))
		u := strings.TrimSuffix(c.base, "/api/v3") + r.URL.Path + "?" + q.Encode()
		links = append(links, fmt.Sprintf("<%s>; rel=%q", u, rel))
	}
	if p.number > 1 {
		add(min(p.number-1, last), "prev")
	}
	if p.number < last {
		add(p.number+1, "next")
		add(last, "last")
	}
	if p.number > 1 {
		add(1, "first")
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
}
