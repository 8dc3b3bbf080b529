#!/usr/bin/env bash
# Times whole `vermont run` processes: wall time (median and best of N) and
# peak RSS, measured by GNU time. Usage: testdata/bench/bench.sh [N]
# Needs: go, bash, GNU time (/usr/bin/time, Debian package "time").
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-20}
bin=$(mktemp -d)/vermont
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./cmd/vermont
[ -x /usr/bin/time ] || { echo "bench.sh: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }

measure() { # name, workflow
  local name=$1 wf=$2 walls=() rss=0 out tf
  tf=$(dirname "$bin")/time.out
  "$bin" run -W "$wf" >/dev/null 2>&1 # warm the page cache
  for _ in $(seq "$n"); do
    start=$EPOCHREALTIME
    /usr/bin/time -o "$tf" -f '%M' "$bin" run -W "$wf" >/dev/null 2>&1
    end=$EPOCHREALTIME
    walls+=("$(echo "($end - $start) * 1000" | bc -l)")
    out=$(tail -1 "$tf")
    (( out > rss )) && rss=$out
  done
  sorted=$(printf '%s\n' "${walls[@]}" | sort -n)
  median=$(echo "$sorted" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  best=$(echo "$sorted" | head -1)
  printf '%-10s runs=%-3s wall median=%.1f ms best=%.1f ms  peak RSS=%.1f MB\n' "$name" "$n" "$median" "$best" "$(echo "$rss/1024" | bc -l)"
}

echo "vermont run, $(nproc) cores, $(uname -sr)"
measure hello testdata/bench/hello.yml
measure matrix50 testdata/bench/matrix50.yml
