#!/usr/bin/env bash
# Runs the benchmark matrix (issue 7) and writes docs/benchmarks.md and docs/benchmarks.png.
#
#   tm-bench/run.sh                          build tm-server and tm-bench, run every variant at 8, 32, 64 threads
#   tm-bench/run.sh --repeats=3              as docs/benchmarks.md is made
#   tm-bench/run.sh --threads=32 --variants=rawxa,xatm-remote --measure-ms=20000
#   tm-bench/run.sh --no-build ...           reuse the jars already in target/
#
# Options after the script name go to dev.xatm.bench.Matrix: --threads, --variants
# (local,rawxa,narayana,atomikos,xatm-remote,xatm-3pc,xatm-embedded by default; xatm-jdbc and xatm-jdbc-3,
# tm-server on the JDBC store with 1 and 3 servers, only when named), --warmup-ms, --rewarm-ms,
# --warmup-max-ms, --measure-ms, --repeats, --doc, --chart, --work, --cell-jvm (comma-separated JVM
# options of each variant's JVM). Each variant runs every thread count in one JVM per repeat.
# A single cell with a JFR recording of the benchmark JVM and tm-server (see tm-bench/README.md):
#   tm-bench/run.sh --cell --variant=xatm-remote --threads=32 --jfr=true --out=/tmp/cell/result.properties
#
# Databases: the TM_TEST_* variables, as for the integration tests (`.ci/run --provision-only`
# provisions PostgreSQL with max_prepared_transactions > 0 and MariaDB, and prints them).
set -euo pipefail
cd "$(dirname "$0")/.."

build=true
cell=false
args=()
for a in "$@"; do
  case "$a" in
    --no-build) build=false ;;
    --cell) cell=true ;;
    *) args+=("$a") ;;
  esac
done

for v in TM_TEST_PG_URL TM_TEST_PG_USER TM_TEST_MYSQL_URL TM_TEST_MYSQL_USER; do
  if [ -z "${!v:-}" ]; then
    echo "[bench] $v is not set. Run '.ci/run --provision-only' and export the variables it prints." >&2
    exit 2
  fi
done

if $build; then
  echo "[bench] building tm-server and tm-bench (./mvnw -B -q -Pbench -pl tm-server,tm-bench -am package -DskipTests)"
  ./mvnw -B -q -Pbench -pl tm-server,tm-bench -am package -DskipTests
fi

cp="tm-bench/target/tm-bench.jar:tm-bench/target/lib/*"
if $cell; then
  exec java -Xms1g -Xmx1g -XX:+UseG1GC -cp "$cp" dev.xatm.bench.Cell "${args[@]}"
fi

revision=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if ! git diff --quiet HEAD -- . 2>/dev/null; then revision="$revision+uncommitted"; fi
work="tm-bench/target/run-$(date -u +%Y%m%dT%H%M%SZ)"
exec java -Xmx256m -cp "$cp" dev.xatm.bench.Matrix \
  --work="$work" --revision="$revision" \
  --command="tm-bench/run.sh${args[*]:+ ${args[*]}}" \
  "${args[@]}"
