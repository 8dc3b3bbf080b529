package workflow

import (
	"testing"
	"time"
)

// TestCronNext: the schedules of GitHub's documentation ("Events that
// trigger workflows", schedule) and POSIX cron's rules: ranges, lists,
// steps, names, and day of month OR day of week when both are restricted.
func TestCronNext(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		cron, after, want string
	}{
		{"30 5 * * 1,3", "2026-12-06T00:00:00Z", "2026-12-07T05:30:00Z"},  // docs: 5:30 UTC on Monday and Wednesday
		{"30 5,17 * * *", "2026-12-06T06:00:00Z", "2026-12-06T17:30:00Z"}, // docs: 5:30 and 17:30 every day
		{"*/15 * * * *", "2026-12-06T10:07:00Z", "2026-12-06T10:15:00Z"},  // docs: every 15 minutes
		{"*/15 * * * *", "2026-12-06T10:15:00Z", "2026-12-06T10:30:00Z"},  // strictly after
		{"0 12 * * MON-FRI", "2026-12-05T13:00:00Z", "2026-12-07T12:00:00Z"},
		{"0 0 1 JAN *", "2026-12-06T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"5/20 * * * *", "2026-12-06T10:26:00Z", "2026-12-06T10:45:00Z"},    // v/n: v, v+n, … to the end
		{"1-30/10 * * * *", "2026-12-06T10:22:00Z", "2026-12-06T11:01:00Z"}, // 1, 11, 21
		{"0 0 13 * 5", "2026-12-06T00:00:00Z", "2026-12-11T00:00:00Z"},      // the 13th OR a Friday: Friday the 11th first
		{"0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},      // leap day
		{"59 23 31 12 *", "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z"},
	} {
		c, err := ParseCron(tc.cron)
		if err != nil {
			t.Fatalf("%s: %v", tc.cron, err)
		}
		got := c.Next(at(tc.after))
		if !got.Equal(at(tc.want)) {
			t.Errorf("%q after %s: %s, want %s", tc.cron, tc.after, got.Format(time.RFC3339), tc.want)
		}
		if !c.Matches(got) || c.Matches(got.Add(-time.Minute)) && got.Add(-time.Minute).After(at(tc.after)) {
			t.Errorf("%q: Matches disagrees with Next at %s", tc.cron, got)
		}
	}
	if c, _ := ParseCron("0 0 30 2 *"); !c.Next(at("2026-01-01T00:00:00Z")).IsZero() {
		t.Error("February 30th came")
	}
	if _, err := ParseCron("61 * * * *"); err == nil {
		t.Error("minute 61 accepted")
	}
}

func FuzzCron(f *testing.F) {
	for _, s := range []string{"30 5 * * 1,3", "*/15 * * * *", "0 0 29 2 *", "1-30/10 * 1 JAN-MAR SUN", "x"} {
		f.Add(s, int64(1_765_000_000))
	}
	f.Fuzz(func(t *testing.T, s string, sec int64) {
		c, err := ParseCron(s)
		if err != nil {
			return
		}
		after := time.Unix(sec%4_000_000_000, 0).UTC()
		next := c.Next(after)
		if next.IsZero() {
			return
		}
		if !next.After(after) || !c.Matches(next) {
			t.Fatalf("%q after %s: next %s", s, after, next)
		}
	})
}
