#!/usr/bin/env bash
# Runs several vermont binaries alternately on the same workloads, in one
# sitting, and prints a Markdown table of median (min–max) wall time and
# peak RSS per binary: what one change bought, measured against the binary
# from before it.
#
# Usage: testdata/bench/compare.sh [-n RUNS] NAME=BINARY... -- WORKLOAD...
#   e.g. compare.sh -n 20 before=/tmp/vermont-old after=/tmp/vermont -- hello steps100
# Needs: bash, GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/../.."
n=10
if [ "${1:-}" = -n ]; then n=$2; shift 2; fi
names=() bins=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  names+=("${1%%=*}") bins+=("${1#*=}")
  shift
done
[ "${1:-}" = -- ] && shift
[ ${#bins[@]} -gt 0 ] && [ $# -gt 0 ] || { echo "usage: compare.sh [-n RUNS] NAME=BINARY... -- WORKLOAD..." >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "compare.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "compare.sh: $n runs each, alternating; $(date -u '+%F %H:%M') UTC, commit $(git rev-parse --short HEAD)," \
  "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
header="| workload |" sep="|---|"
for name in "${names[@]}"; do header+=" $name |"; sep+="---|"; done
echo "$header"
echo "$sep"
for w in "$@"; do
  wf=testdata/bench/$w.yml
  [ -f "$wf" ] || { echo "compare.sh: no workload $w ($wf)" >&2; exit 2; }
  for i in "${!bins[@]}"; do
    "${bins[$i]}" run -W "$wf" >/dev/null 2>&1 || { echo "compare.sh: ${names[$i]} fails on $w" >&2; exit 1; }
    : >"$tmp/$i"
  done
  for _ in $(seq "$n"); do
    for i in "${!bins[@]}"; do
      start=$EPOCHREALTIME
      /usr/bin/time -o "$tmp/time" -f '%M' "${bins[$i]}" run -W "$wf" >/dev/null 2>&1
      end=$EPOCHREALTIME
      echo "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.2f", (b - a) * 1000}') $(tail -1 "$tmp/time")" >>"$tmp/$i"
    done
  done
  row="| $w |"
  for i in "${!bins[@]}"; do
    row+=" $(sort -n "$tmp/$i" | awk '{w[NR] = $1; if ($2 > r) r = $2}
      END {printf "%.1f ms (%.1f–%.1f), %.1f MB", w[int((NR + 1) / 2)], w[1], w[NR], r / 1024}') |"
  done
  echo "$row"
done
echo "compare.sh: load average at the end $(cut -d' ' -f1-3 /proc/loadavg)" >&2
