#!/usr/bin/env bash
# Runs act (host mode) and Vermont alternately on the same workflows, in one
# sitting, and prints a Markdown table: median, min and max wall time, peak
# RSS (GNU time's %M: the largest process of the run), the act/Vermont ratio
# of the medians, and the floor where a workload has one, with the machine
# floor: the same processes at the same parallelism, without Vermont.
#
# Usage: testdata/bench/bench.sh [-n RUNS] [WORKLOAD...]
#   WORKLOAD: hello matrix50 matrix50-default graph200 steps100 (default: all)
#
# Vermont is built as .goreleaser.yaml builds the shipped vermont: the
# host-only build (-tags thin), CGO_ENABLED=0, -trimpath, -s -w.
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
# Vermont as released (.goreleaser.yaml): the host-only build, static.
CGO_ENABLED=0 go build -tags thin -trimpath -ldflags='-s -w' -o "$tmp/bin/vermont" ./cmd/vermont
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

# floor W: times the floor of workload W in this sitting, in ms, and the
# same processes as Vermont starts them with nothing around them (what this
# machine can do at best): "floor machine", either empty when none.
#   hello:    two bash -c true; the same.
#   steps100: 100 bash starts in a row; the same.
#   graph200: its critical path, 20 bash starts in a row; then 200 bash
#             starts, 20 layers of 10 at once (2 cores cannot start 10 at once).
#   matrix50: the 0.2 s sleep; then 50 `bash -c 'sleep 0.2'` at once.
floor() {
  local start end mid=
  case $1 in
  hello) start=$EPOCHREALTIME; bash -c true; bash -c true; end=$EPOCHREALTIME ;;
  steps100) start=$EPOCHREALTIME; for i in $(seq 100); do bash -c "echo $i" >/dev/null; done; end=$EPOCHREALTIME ;;
  graph200)
    start=$EPOCHREALTIME; for _ in $(seq 20); do bash -c true; done; mid=$EPOCHREALTIME
    for _ in $(seq 20); do
      for _ in $(seq 10); do bash -c true & done
      wait
    done
    end=$EPOCHREALTIME
    awk -v a="$start" -v m="$mid" -v b="$end" 'BEGIN {printf "%.2f %.2f\n", (m - a) * 1000, (b - m) * 1000}'
    return ;;
  matrix50 | matrix50-default)
    start=$EPOCHREALTIME
    for _ in $(seq 50); do bash -c 'sleep 0.2' & done
    wait
    end=$EPOCHREALTIME
    awk -v a="$start" -v b="$end" 'BEGIN {printf "200.00 %.2f\n", (b - a) * 1000}'
    return ;;
  *) return ;;
  esac
  awk -v a="$start" -v b="$end" 'BEGIN {v = (b - a) * 1000; printf "%.2f %.2f\n", v, v}'
}

# stats FILE: "median min max rss_mb" over the samples of FILE.
stats() {
  grep -v timeout "$1" | sort -n | awk '{w[NR] = $1; if ($2 > r) r = $2}
    END {printf "%.1f %.1f %.1f %.1f", w[int((NR + 1) / 2)], w[1], w[NR], r / 1024}'
}

fmt_ms() { awk -v v="$1" 'BEGIN {if (v >= 1000) printf "%.2f s", v / 1000; else printf "%.1f ms", v}'; }

echo "bench.sh: $n runs each, alternating; $(date -u +%F), commit $(git rev-parse --short HEAD)$(git diff --quiet || echo -dirty)," \
  "$(nproc) cores, $(uname -sr), load average $(cut -d' ' -f1-3 /proc/loadavg), act $ACT_VERSION" >&2
echo "| workload | floor | machine floor | Vermont median (min–max) | Vermont RSS | Vermont/machine floor | act median (min–max) | act RSS | act/Vermont |"
echo "|---|---|---|---|---|---|---|---|---|"
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
  fl=$(sort -n -k1 "$tmp/$w.floor" | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}')
  mfl=$(sort -n -k2 "$tmp/$w.floor" | awk '{a[NR] = $2} END {if (NR) print a[int((NR + 1) / 2)]}')
  if grep -q timeout "$tmp/$w.act"; then
    actcol="did not finish in ${ACT_TIMEOUT} s | | "
  else
    read -r am amin amax arss <<<"$(stats "$tmp/$w.act")"
    actcol="$(fmt_ms "$am") ($(fmt_ms "$amin")–$(fmt_ms "$amax")) | ${arss} MB | $(awk -v a="$am" -v v="$vm" 'BEGIN {printf "%.1f×", a / v}')"
  fi
  ratio=${mfl:+$(awk -v v="$vm" -v f="$mfl" 'BEGIN {printf "%.2f×", v / f}')}
  echo "| $w | ${fl:+$(fmt_ms "$fl")} | ${mfl:+$(fmt_ms "$mfl")} | $(fmt_ms "$vm") ($(fmt_ms "$vmin")–$(fmt_ms "$vmax")) | ${vrss} MB | $ratio | $actcol |"
done
echo "bench.sh: load average at the end $(cut -d" " -f1-3 /proc/loadavg)" >&2
