package workflow

import "strconv"

// suggest returns a ` (did you mean "x"?)` hint naming the closest of
// candidates to s, or "" when none is close. Close means an edit distance of
// at most a third of the word, at least 2 for words of four or more
// letters and 1 for shorter ones.
func suggest(s string, candidates []string) string {
	limit := max(1, len(s)/3)
	if len(s) >= 4 {
		limit = max(limit, 2)
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return "; did you mean " + strconv.Quote(best) + "?"
}

// editDistance is the Levenshtein distance between a and b, counting bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		if a == b {
			return 0
		}
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
