#!/usr/bin/env bash
# The log micro-benchmark (issue 7, item 5): durable COMMIT decisions per second of FileTxnLog alone,
# at 1, 4, 16 and 64 concurrent writers, with group commit and without it (one fsync per decision; JMH,
# dev.xatm.bench.log.FileLogBenchmark). Writes docs/log-benchmark.md. No database needed.
#
#   tm-bench/log-bench.sh                      build tm-bench (bench profile), run, write docs/log-benchmark.md
#   tm-bench/log-bench.sh --no-build ...       reuse the jars already in tm-bench/target/
#   tm-bench/log-bench.sh --offline ...        build with ./mvnw -o
#   tm-bench/log-bench.sh --threads=1,64 --iterations=10 --doc=/tmp/log-benchmark.md
#
# Options after the script name go to dev.xatm.bench.LogBench: --threads (1,4,16,64),
# --modes (group,locked-fsync,per-decision), --forks (1), --warmup-iterations (2), --warmup-s (1),
# --iterations (5), --iteration-s (2), --jvm (-Xms1g,-Xmx1g,-XX:+UseG1GC: the forks' JVM options),
# --doc (docs/log-benchmark.md). The logs go to a fresh directory under java.io.tmpdir per fork
# (TMPDIR is passed on, so TMPDIR=/mnt/other/disk measures another disk).
# --report-only=tm-bench/target/log-bench-<timestamp> rewrites the report from a finished run.
# The default run (3 modes x 4 writer counts, 14 s per cell) takes about 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

command="tm-bench/log-bench.sh${*:+ $*}"
build=true
mvn_flags=(-B -q)
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=false ;;
    --offline) mvn_flags+=(-o) ;;
    *) args+=("$a") ;;
  esac
done

if $build; then
  echo "[log-bench] building tm-bench (./mvnw ${mvn_flags[*]} -Pbench -pl tm-bench -am package -DskipTests)"
  ./mvnw "${mvn_flags[@]}" -Pbench -pl tm-bench -am package -DskipTests
fi

revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- . 2>/dev/null; then revision="$revision+uncommitted"; fi
tmp=${TMPDIR:-/tmp}
exec java -Xmx256m -Djava.io.tmpdir="$tmp" -cp "tm-bench/target/tm-bench.jar:tm-bench/target/lib/*" dev.xatm.bench.LogBench \
  --work="tm-bench/target/log-bench-$(date -u +%Y%m%dT%H%M%SZ)" --revision="$revision" \
  --command="$command" \
  "${args[@]}"
