#!/usr/bin/env bash
# The xatm demo, end to end, with no Docker and no database server:
#   1. builds tm-server and sample-order-service (tests skipped),
#   2. starts tm-server (file log in a temporary directory, a random client token; tm-server
#      generates its admin token into <that directory>/tm-log/admin-token),
#   3. starts sample-order-service on two H2 file databases (its two shards) in that directory,
#   4. places an order that spans both shards (it commits), then one that asks for more than the
#      stock (409: rolled back on both shards), and shows what each database holds afterwards,
#   5. stops everything it started (also on Ctrl-C or failure) and deletes the directory.
#
#   ./demo.sh                 the embedded default (two H2 shards)
#   ./demo.sh --pg-mariadb    shard 0 on PostgreSQL, shard 1 on MariaDB, from the TM_TEST_* variables
#                             that the tests use (`.ci/run --provision-only` prints them)
#   ./demo.sh --no-build      use the jars already in */target
#   ./demo.sh --keep          keep the temporary directory (logs, H2 files, tm-server's log)
#   ./demo.sh --stay          leave tm-server and the service running after the walkthrough, until
#                             Ctrl-C, so the curl commands it printed can be pasted in another terminal
#   ./demo.sh --help          print this text
#
# Other shard databases: export SAMPLE_SHARD0_URL / _USERNAME / _PASSWORD and SAMPLE_SHARD1_URL /
# _USERNAME / _PASSWORD (any of jdbc:postgresql:, jdbc:mysql:, jdbc:mariadb:, jdbc:h2:), and
# optionally SAMPLE_TABLE_PREFIX; the service reads them directly.
# Ports are free ones unless DEMO_TM_HTTP_PORT, DEMO_TM_GRPC_PORT or DEMO_APP_PORT say otherwise.
set -euo pipefail

cd "$(dirname "$0")"
ROOT=$(pwd)

build=true
keep=false
stay=false
databases=h2
for arg in "$@"; do
  case "$arg" in
    --no-build) build=false ;;
    --keep) keep=true ;;
    --stay) stay=true ;;
    --pg-mariadb) databases=pg-mariadb ;;
    # the comment block at the top, up to the first line that is not a comment
    -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p;}' "$0"; exit 0 ;;
    *) echo "unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

# ---------------------------------------------------------------------------- output helpers
if [ -t 1 ]; then B=$'\e[1m'; G=$'\e[32m'; Y=$'\e[33m'; R=$'\e[31m'; N=$'\e[0m'; else B=; G=; Y=; R=; N=; fi
step_no=0
step() { step_no=$((step_no + 1)); echo; echo "${B}== $step_no. $*${N}"; }
say() { echo "   $*"; }
ok() { echo "   ${G}✔ $*${N}"; }
die() { echo "${R}✘ $*${N}" >&2; exit 1; }
# Pretty JSON when a formatter exists; the demo needs none.
pretty() {
  if command -v jq >/dev/null 2>&1; then jq . 2>/dev/null || cat
  elif command -v python3 >/dev/null 2>&1; then python3 -m json.tool 2>/dev/null || cat
  else cat; echo; fi | sed 's/^/     /'
}
json_field() { # json_field <name> <json>: a top-level number or string field, without jq
  printf '%s' "$2" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p" | head -n 1
}

# ---------------------------------------------------------------------------- HTTP helpers
STATUS= BODY=
http() { # http <METHOD> <url> [json body]: sets STATUS and BODY, prints the exchange
  # With AUTH set (a bearer token), it is sent but shown as $ADMIN_TOKEN, never printed.
  local method=$1 url=$2 data=${3:-} out auth=()
  [ -n "${AUTH:-}" ] && auth=(-H "Authorization: Bearer $AUTH")
  say "${Y}\$ $(shown_curl "$method" "$url" "$data")${N}"
  if [ -n "$data" ]; then
    out=$(curl -sS -m 60 -X "$method" ${auth[@]+"${auth[@]}"} -H 'Content-Type: application/json' -d "$data" -w $'\n%{http_code}' "$url")
  else
    out=$(curl -sS -m 60 -X "$method" ${auth[@]+"${auth[@]}"} -w $'\n%{http_code}' "$url")
  fi
  STATUS=${out##*$'\n'}
  BODY=${out%$'\n'*}
  say "HTTP $STATUS"
  printf '%s\n' "$BODY" | pretty
}
# The command as a reader can paste it into a shell: the same method, headers and body as the
# request sent (a JSON body without its Content-Type gets 415), the token as "$ADMIN_TOKEN" in
# double quotes so the shell expands it, and a URL with a query quoted against globbing.
shown_curl() { # shown_curl <METHOD> <url> [json body]
  local method=$1 url=$2 data=${3:-} cmd="curl -s"
  [ "$method" = GET ] || cmd+=" -X $method"
  [ -n "${AUTH:-}" ] && cmd+=' -H "Authorization: Bearer $ADMIN_TOKEN"'
  case $url in *[?\&]*) cmd+=" '$url'" ;; *) cmd+=" $url" ;; esac
  [ -n "$data" ] && cmd+=" -H 'Content-Type: application/json' -d '$data'"
  printf '%s' "$cmd"
}
expect_status() { [ "$STATUS" = "$1" ] || die "expected HTTP $1, got $STATUS"; }

# ---------------------------------------------------------------------------- processes
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xatm-demo.XXXXXX")
PIDS=()
NAMES=()
cleanup() {
  local rc=$?
  set +e
  if [ ${#PIDS[@]} -gt 0 ]; then
    echo
    echo "${B}== stopping what the demo started${N}"
  fi
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
    local pid=${PIDS[$i]}
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null; fi
      wait "$pid" 2>/dev/null
      say "stopped ${NAMES[$i]} (pid $pid)"
    fi
  done
  if [ ${#PIDS[@]} -gt 0 ] && { [ $rc -ne 0 ] || $keep; }; then
    echo "   logs and data kept in $WORK"
    if [ $rc -ne 0 ]; then
      for f in "$WORK"/*.log; do [ -f "$f" ] && { echo "   --- last lines of $f"; tail -n 15 "$f" | sed 's/^/   | /'; }; done
    fi
  else
    rm -rf "$WORK"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || { echo "$p"; return; }
  done
  die "no free port found"
}
start() { # start <name> <log file> <command...>
  local name=$1 log=$2; shift 2
  "$@" >"$log" 2>&1 &
  PIDS+=($!)
  NAMES+=("$name")
  say "started $name (pid $!), log: $log"
}
wait_healthy() { # wait_healthy <name> <pid> <health url> <seconds>
  local name=$1 pid=$2 url=$3 secs=$4 deadline=$(( $(date +%s) + $4 ))
  until [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url")" = 200 ]; do
    kill -0 "$pid" 2>/dev/null || die "$name exited during start-up"
    [ "$(date +%s)" -lt "$deadline" ] || die "$name not healthy after ${secs}s ($url)"
    sleep 0.5
  done
  ok "$name is healthy ($url)"
}

# ---------------------------------------------------------------------------- preflight
command -v java >/dev/null || die "java not found: a JDK 17 or later is needed"
command -v curl >/dev/null || die "curl not found"
java_major=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/ *java.specification.version = //p')
[ "${java_major%%.*}" -ge 17 ] 2>/dev/null || die "Java 17 or later needed, found $java_major"

case $databases in
  h2)
    if [ -n "${SAMPLE_SHARD0_URL:-}${SAMPLE_SHARD1_URL:-}" ]; then
      shard_args=()   # the service reads SAMPLE_SHARD*_* from the environment itself
      shards_text="shard 0: ${SAMPLE_SHARD0_URL:-H2 default}, shard 1: ${SAMPLE_SHARD1_URL:-H2 default}"
    else
      h2_opts='DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=10000'
      shard_args=("--sample.shard0.url=jdbc:h2:file:$WORK/shard0;$h2_opts" "--sample.shard1.url=jdbc:h2:file:$WORK/shard1;$h2_opts")
      shards_text="two H2 file databases in $WORK (shard0.mv.db, shard1.mv.db)"
    fi ;;
  pg-mariadb)
    for v in TM_TEST_PG_URL TM_TEST_PG_USER TM_TEST_PG_PASSWORD TM_TEST_MYSQL_URL TM_TEST_MYSQL_USER TM_TEST_MYSQL_PASSWORD; do
      [ -n "${!v:-}" ] || die "--pg-mariadb needs $v (\`.ci/run --provision-only\` prints the variables)"
    done
    export SAMPLE_SHARD0_URL=$TM_TEST_PG_URL SAMPLE_SHARD0_USERNAME=$TM_TEST_PG_USER SAMPLE_SHARD0_PASSWORD=$TM_TEST_PG_PASSWORD
    export SAMPLE_SHARD1_URL=$TM_TEST_MYSQL_URL SAMPLE_SHARD1_USERNAME=$TM_TEST_MYSQL_USER SAMPLE_SHARD1_PASSWORD=$TM_TEST_MYSQL_PASSWORD
    # its own tables, apart from the tests'; kept between runs, so stock goes down run after run
    export SAMPLE_TABLE_PREFIX=${SAMPLE_TABLE_PREFIX:-demo_}
    shard_args=()
    shards_text="shard 0: PostgreSQL $TM_TEST_PG_URL, shard 1: $TM_TEST_MYSQL_URL (tables ${SAMPLE_TABLE_PREFIX}orders, ${SAMPLE_TABLE_PREFIX}inventory)" ;;
esac

TM_HTTP=${DEMO_TM_HTTP_PORT:-$(free_port)}
TM_GRPC=${DEMO_TM_GRPC_PORT:-$(free_port)}
APP=${DEMO_APP_PORT:-$(free_port)}
for p in "$TM_HTTP" "$TM_GRPC" "$APP"; do port_in_use "$p" && die "port $p is in use"; done
[ "$TM_HTTP" != "$TM_GRPC" ] && [ "$TM_HTTP" != "$APP" ] && [ "$TM_GRPC" != "$APP" ] || die "ports must differ"

echo "${B}xatm demo${N}: one order = one global transaction over two shard databases"
say "working directory: $WORK"

# ---------------------------------------------------------------------------- 1. build
step "Build tm-server and sample-order-service (tests skipped)"
if $build; then
  command -v java >/dev/null || die "java not found: a JDK 17 or later is needed"
  # The Maven wrapper fetches the pinned Maven on first use; no Maven install needed.
  say "${Y}\$ ./mvnw -B -q -DskipTests -pl tm-server,sample-order-service -am package${N}"
  started=$(date +%s)
  # (-q: only problems are printed; the sed drops the colour codes some Maven installs emit even with -B)
  ./mvnw -B -q -Dstyle.color=never -DskipTests -pl tm-server,sample-order-service -am package 2>&1 | sed -e "s/\x1b\[[0-9;]*m//g" -e "/^$/d"
  ok "built in $(( $(date +%s) - started ))s"
else
  say "--no-build: using the jars in tm-server/target and sample-order-service/target"
fi
TM_JAR=$ROOT/tm-server/target/tm-server.jar
APP_JAR=$ROOT/sample-order-service/target/sample-order-service.jar
[ -f "$TM_JAR" ] && [ -f "$APP_JAR" ] || die "jars missing; run without --no-build"

# ---------------------------------------------------------------------------- 2. tm-server
step "Start the coordinator, tm-server"
# The client token travels in the environment, not on the command line (where ps would show it).
# No admin token is given: tm-server then generates one into <tm.server.file.dir>/admin-token
# (owner-only), as it would for you; the demo reads it from there. (Set empty, so an exported
# TM_SERVER_ADMIN_TOKEN does not stop it: tm-server reads an empty value as unset.)
TOKEN=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
say "admin/health http://127.0.0.1:$TM_HTTP, gRPC 127.0.0.1:$TM_GRPC, transaction log in $WORK/tm-log"
TM_SERVER_AUTH_TOKEN=$TOKEN TM_SERVER_ADMIN_TOKEN= start tm-server "$WORK/tm-server.log" \
  java -Xmx256m -jar "$TM_JAR" --server.address=127.0.0.1 --server.port="$TM_HTTP" --tm.server.port="$TM_GRPC" \
  --tm.server.file.dir="$WORK/tm-log"
wait_healthy tm-server "${PIDS[${#PIDS[@]}-1]}" "http://127.0.0.1:$TM_HTTP/actuator/health" 120
ADMIN_TOKEN_FILE=$WORK/tm-log/admin-token
[ -s "$ADMIN_TOKEN_FILE" ] || die "tm-server did not write its admin token into $ADMIN_TOKEN_FILE"
ADMIN_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
say "no tm.server.admin-token given, so tm-server generated one into $ADMIN_TOKEN_FILE;"
say "the admin calls below send it as \$ADMIN_TOKEN. To paste them, first: ${Y}ADMIN_TOKEN=\$(cat $ADMIN_TOKEN_FILE)${N}"

# ---------------------------------------------------------------------------- 3. the service
step "Start sample-order-service on its two shards"
say "$shards_text"
say "orders live on shard userId % 2, inventory on shard productId % 2"
TM_CLIENT_AUTH_TOKEN=$TOKEN start sample-order-service "$WORK/sample-order-service.log" \
  java -Xmx384m -jar "$APP_JAR" --server.address=127.0.0.1 --server.port="$APP" \
  --tm.client.server-address="127.0.0.1:$TM_GRPC" --tm.client.agent-id=demo-orders ${shard_args[@]+"${shard_args[@]}"}
wait_healthy sample-order-service "${PIDS[${#PIDS[@]}-1]}" "http://127.0.0.1:$APP/actuator/health" 180
say "(healthy = both shards answer, Flyway applied sql/ to each, and its agent is connected to tm-server)"
BASE=http://127.0.0.1:$APP

# ---------------------------------------------------------------------------- 4. commit
step "An order across both shards: user 1 (shard 1) buys 3 of product 2 (shard 0)"
http GET "$BASE/inventory/2"
expect_status 200
before=$(json_field stock "$BODY")
http POST "$BASE/orders" '{"userId": 1, "productId": 2, "quantity": 3}'
expect_status 201
order_id=$(json_field orderId "$BODY")
xid=$(json_field xid "$BODY")
ok "committed: global transaction $xid wrote order $order_id on shard 1 and took the stock on shard 0"
say "(two branches, so two-phase commit in one round trip: the service prepared both itself and sent"
say " tm-server one commit request with the votes; tm-server fsynced its COMMIT decision and answered;"
say " the service then committed both and acknowledged; the answer came after both had committed)"
http GET "$BASE/orders/$order_id"
expect_status 200
http GET "$BASE/inventory/2"
expect_status 200
after=$(json_field stock "$BODY")
[ "$after" -eq $((before - 3)) ] || die "stock should be $((before - 3)), is $after"
ok "stock of product 2: $before -> $after"

# ---------------------------------------------------------------------------- 5. rollback
too_many=$((after + 1))
step "An order for more than the stock: user 3 (shard 1) asks for $too_many of product 2 (shard 0)"
http POST "$BASE/orders" "{\"userId\": 3, \"productId\": 2, \"quantity\": $too_many}"
expect_status 409
rejected_id=$(json_field orderId "$BODY")
say "The service wrote order $rejected_id on shard 1 first, then found the stock short on shard 0 and threw;"
say "@GlobalTransactional rolled back both branches (tm-server never had to hear of it). Proof:"
http GET "$BASE/orders/$rejected_id"
expect_status 404
http GET "$BASE/inventory/2"
expect_status 200
[ "$(json_field stock "$BODY")" -eq "$after" ] || die "stock changed by a rejected order"
ok "rolled back everywhere: no order $rejected_id on shard 1, stock of product 2 still $after on shard 0"

# ---------------------------------------------------------------------------- 6. status
step "What the coordinator says"
say "The admin REST API (bearer token tm.server.admin-token) shows the committed transaction, its"
say "branches and the history of its log events:"
AUTH=$ADMIN_TOKEN http GET "http://127.0.0.1:$TM_HTTP/api/v1/transactions/$xid"
expect_status 200
AUTH=$ADMIN_TOKEN http GET "http://127.0.0.1:$TM_HTTP/api/v1/transactions?limit=5"
expect_status 200
say "Nothing is in doubt:"
AUTH=$ADMIN_TOKEN http GET "http://127.0.0.1:$TM_HTTP/api/v1/transactions/in-doubt"
expect_status 200
say "And without the token the admin API refuses:"
http GET "http://127.0.0.1:$TM_HTTP/api/v1/transactions"
expect_status 401
say "Its health: no live transaction left, one agent (the service) connected."
http GET "http://127.0.0.1:$TM_HTTP/actuator/health/coordinator"
say "The service's side: its agent's stream is UP and holds no branch (nothing prepared, nothing in doubt)."
http GET "$BASE/actuator/health/tmClient"
say "And the committed order is readable on its shard (shown above): GET /orders/$order_id."
say "Transaction log (only COMMIT decisions and completions are written; rollbacks never are):"
ls -l "$WORK/tm-log" | sed 's/^/     /'

echo
echo "${G}${B}Demo complete.${N} Next: README.md 'The sample order service' (in-doubt inspection), docker compose up"
echo "for MySQL + PostgreSQL, and ./demo.sh --pg-mariadb against local databases."
if $stay; then
  echo
  echo "${B}--stay:${N} tm-server and the service keep running; paste the curl commands above in another"
  echo "terminal (the admin ones after ${Y}ADMIN_TOKEN=\$(cat $ADMIN_TOKEN_FILE)${N}). Ctrl-C stops them."
  # Ctrl-C (or kill) is the normal end here, not a failure. The sleep runs in the background under
  # `wait`, which a signal interrupts (bash runs a trap only once a foreground command is done);
  # the trap ends that sleep too.
  trap 'kill "$sleeper" 2>/dev/null; exit 0' INT TERM
  while :; do sleep 3600 & sleeper=$!; wait "$sleeper"; done
else
  echo "(It stops everything now; ./demo.sh --stay leaves it running, so the printed commands can be pasted.)"
fi
