#!/bin/sh
# Run one libFuzzer target and print one line about it (used by `make fuzz`).
#
#   run-fuzzer.sh NAME BINARY WORKDIR MAXLEN SECONDS RUNS DICT FLAGS SEEDDIR...
#
# SECONDS 0 means no time limit, RUNS empty means no execution limit.  New
# inputs go to WORKDIR/corpus/NAME (the scratch corpus: the committed seed
# directories are only read), findings to WORKDIR/artifacts/NAME-*, the full
# output to WORKDIR/NAME.log.  Exit status 1 on a finding.
set -u
name=$1 bin=$2 work=$3 maxlen=$4 secs=$5 runs=$6 dict=$7 flags=$8
shift 8

mkdir -p "$work/corpus/$name" "$work/artifacts" || exit 1
log=$work/$name.log

# libFuzzer only adds files to the scratch corpus (a reduced input is a new
# file): past a few thousand, loading it eats the run.  Merge it down to
# the inputs that still add coverage first.
if [ "$(find "$work/corpus/$name" -type f | wc -l)" -gt 2000 ]; then
	rm -rf "$work/corpus/$name.new" && mkdir "$work/corpus/$name.new" &&
	"$bin" -merge=1 -max_len="$maxlen" -timeout=10 -rss_limit_mb=2048 \
	    "$work/corpus/$name.new" "$work/corpus/$name" \
	    >"$log.merge" 2>&1 &&
	rm -rf "$work/corpus/$name" &&
	mv "$work/corpus/$name.new" "$work/corpus/$name" &&
	echo "fuzz $name: scratch corpus merged down to" \
	    "$(find "$work/corpus/$name" -type f | wc -l) inputs"
fi
set -- -max_len="$maxlen" -max_total_time="$secs" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -interrupted_exitcode=72 \
    -artifact_prefix="$work/artifacts/$name-" "$work/corpus/$name" "$@"
[ -n "$runs" ] && set -- -runs="$runs" "$@"
[ -n "$dict" ] && set -- -dict="$dict" "$@"
# FLAGS is split on blanks on purpose: several libFuzzer flags.
# shellcheck disable=SC2086
set -- $flags "$@"

echo "fuzz $name: running ($([ "$secs" != 0 ] && echo "${secs}s" || echo "no time limit")${runs:+, at most $runs executions}; log $log)"
start=$(date +%s)
"$bin" "$@" >"$log" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
persec=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
ninputs=$(find "$work/corpus/$name" -type f | wc -l)

if [ "$rc" = 0 ]; then
	echo "fuzz $name: ${execs:-?} executions in ${elapsed}s" \
	    "(${persec:-?}/s), no finding; scratch corpus $ninputs inputs"
	exit 0
fi
if [ "$rc" = 72 ]; then	# libFuzzer's -interrupted_exitcode
	echo "fuzz $name: interrupted after ${execs:-?} executions in" \
	    "${elapsed}s, no finding so far"
	exit 1
fi
artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
echo "fuzz $name: FINDING after ${execs:-?} executions in ${elapsed}s" \
    "(exit $rc): ${artifact:-no reproducer written, see $log}"
grep -E 'invariant failed|^SUMMARY|ERROR: (AddressSanitizer|libFuzzer)|runtime error' \
    "$log" | head -n 5 | sed 's/^/    /'
[ -n "$artifact" ] && echo "    reproduce: $bin $artifact;" \
    "minimise: $bin -minimize_crash=1 -runs=100000 $artifact"
exit 1
