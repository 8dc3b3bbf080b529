#!/usr/bin/env bash
# Runs act (host mode) and Vermont alternately on the same workflows, in one
# sitting, and prints a Markdown table: median, min and max wall time, peak
# RSS (GNU time's %M: the largest process of the run), the act/Vermont ratio
# of the medians, and the floor where a workload has one.
#
# Usage: testdata/bench/bench.sh [-n RUNS] [WORKLOAD...]
#   WORKLOAD: hello matrix50 matrix50-default graph200 steps100 (default: all)
#
# act is built once from its Go module (github.com/nektos/act@$ACT_VERSION)
# into the user cache dir, keyed by version. Its runs are bounded by
# ACT_TIMEOUT seconds; after one timeout the workload's act column says so.
# Needs: go, bash, GNU time (/usr/bin/time, Debian package "time").
set -euo pipefail
cd "$(dirname "$0")/../.."

n=10
if [ "${1:-}" = -n ]; then n=$2; shift 2; fi
workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(hello matrix50 matrix50-default graph200 steps100)
ACT_VERSION=${ACT_VERSION:-v0.2.89}
ACT_TIMEOUT=${ACT_TIMEOUT:-120}

[ -x /usr/bin/time ] || { echo "bench.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/bin/vermont" ./cmd/vermont
cache=${XDG_CACHE_HOME:-$HOME/.cache}/vermont/act-$ACT_VERSION
if [ ! -x "$cache/act" ]; then
  echo "building act $ACT_VERSION into $cache (once per machine)" >&2
  GOBIN=$cache go install "github.com/nektos/act@$ACT_VERSION"
fi
act=$cache/act

# sample NAME CMD...: runs CMD once under GNU time and appends "wall_ms rss_kb"
# to $tmp/NAME, or "timeout" when it was killed (act runs under timeout).
sample() {
  local name=$1 start end rc=0 # rc 137: killed by timeout -s KILL
  shift
  start=$EPOCHREALTIME
  /usr/bin/time -o "$tmp/time" -f '%M' "$@" >"$tmp/err" 2>&1 || rc=$?
  end=$EPOCHREALTIME
  if [ $rc = 137 ]; then echo timeout >>"$tmp/$name"; return; fi
  if [ $rc != 0 ]; then echo "bench.sh: $name failed (exit $rc):" >&2; grep -v "✓ success\|▶" "$tmp/err" | tail -15 >&2; exit 1; fi
  echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", (b - a) * 1000}') $(tail -1 "$tmp/time")" >>"$tmp/$name"
}

# floor W: times the floor of workload W in this sitting, in ms; empty if none.
floor() {
  local start end
  case $1 in
  hello) start=$EPOCHREALTIME; bash -c true; bash -c true; end=$EPOCHREALTIME ;;
  steps100) start=$EPOCHREALTIME; for i in $(seq 100); do bash -c "echo $i" >/dev/null; done; end=$EPOCHREALTIME ;;
  graph200) start=$EPOCHREALTIME; for _ in $(seq 20); do bash -c true; done; end=$EPOCHREALTIME ;;
  matrix50 | matrix50-default) echo 200.00; return ;;
  *) return ;;
  esac
  awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f\n", (b - a) * 1000}'
}

# stats FILE: "median min max rss_mb" over the samples of FILE.
stats() {
  grep -v timeout "$1" | sort -n | awk '{w[NR] = $1; if ($2 > r) r = $2}
    END {printf "%.1f %.1f %.1f %.1f", w[int((NR + 1) / 2)], w[1], w[NR], r / 1024}'
}

fmt_ms() { awk -v v="$1" 'BEGIN {if (v >= 1000) printf "%.2f s", v / 1000; else printf "%.1f ms", v}'; }

echo "bench.sh: $n runs each, alternating; $(date -u +%F), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty)," \
  "$(nproc) cores, $(uname -sr), act $ACT_VERSION" >&2
echo "| workload | floor | Vermont median (min–max) | Vermont RSS | act median (min–max) | act RSS | act/Vermont |"
echo "|---|---|---|---|---|---|---|"
for w in "${workloads[@]}"; do
  wf=testdata/bench/$w.yml
  [ -f "$wf" ] || { echo "bench.sh: no workload $w ($wf)" >&2; exit 2; }
  "$tmp/bin/vermont" run -W "$wf" >/dev/null 2>&1 # warm the page cache
  : >"$tmp/$w.vermont"; : >"$tmp/$w.act"; : >"$tmp/$w.floor"
  for _ in $(seq "$n"); do
    floor "$w" >>"$tmp/$w.floor"
    grep -q timeout "$tmp/$w.act" || sample "$w.act" timeout -s KILL "$ACT_TIMEOUT" "$act" push -W "$wf" -P ubuntu-latest=-self-hosted
    sample "$w.vermont" "$tmp/bin/vermont" run -W "$wf"
  done
  read -r vm vmin vmax vrss <<<"$(stats "$tmp/$w.vermont")"
  fl=$(sort -n "$tmp/$w.floor" | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}')
  if grep -q timeout "$tmp/$w.act"; then
    actcol="did not finish in ${ACT_TIMEOUT} s | | "
  else
    read -r am amin amax arss <<<"$(stats "$tmp/$w.act")"
    actcol="$(fmt_ms "$am") ($(fmt_ms "$amin")–$(fmt_ms "$amax")) | ${arss} MB | $(awk -v a="$am" -v v="$vm" 'BEGIN {printf "%.1f×", a / v}')"
  fi
  echo "| $w | ${fl:+$(fmt_ms "$fl")} | $(fmt_ms "$vm") ($(fmt_ms "$vmin")–$(fmt_ms "$vmax")) | ${vrss} MB | $actcol |"
done
