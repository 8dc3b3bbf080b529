package expr

// Truthy reports whether v counts as true in a condition, by GitHub's rules:
// false, 0, -0, NaN, "" and null are false; everything else is true.
func Truthy(v any) bool { return truthy(v) }
