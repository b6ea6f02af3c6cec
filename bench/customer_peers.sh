#!/usr/bin/env bash
# Authenticated GET of one customer: our customer service side by side with the peers of
# ../shared/bench-peers (FastAPI + PyJWT + asyncpg, Fastify + jose, the bare Litestar floor under
# uvicorn and granian), in ONE run of the peers' run.sh, on the same PostgreSQL and the same 100k
# customers, with the same tokens (RS256, EdDSA, and a corrupted signature for the 401 path).
#
# Our service runs exactly as deployed (problem+json, request log at info, metrics, token cache),
# mounted at CUSTOMER_API_PREFIX="" so the load script's path /customers/{cpf} reaches it; it
# trusts the peers' JWKS (served over HTTP on 127.0.0.1:18100), issuer http://auth.local.
#
# Usage: bench/customer_peers.sh            (~10 min; ROUNDS, DURATION, ... as in the peers' README)
# Token-endpoint figures are printed by bench/auth_tokens.py.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEERS_DIR="${PEERS_DIR:-$ROOT/../shared/bench-peers}"
source "$PEERS_DIR/common.sh"
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || { echo "run 'make test' or 'make run' once first: .venv is missing" >&2; exit 2; }
[ -s "$PEERS_DATA/jwks.json" ] && [ -s "$PEERS_DATA/cpfs.txt" ] || "$PEERS_DIR/setup.sh"
if [ "$OWN_PG" = 1 ]; then "$PEERS_DIR/pg.sh" start; fi

server="${DATABASE_URL%/*}"
ours_db="$server/bench_ours_customers"
psql "$server/postgres" -Atqc "select 1 from pg_database where datname = 'bench_ours_customers'" | grep -q 1 \
  || psql "$server/postgres" -qc "create database bench_ours_customers"
CUSTOMER_DATABASE_URL="$ours_db" "$PY" -m customer_service db upgrade
columns="cpf, email, name, phone_number, birthdate, profession, salary, country, state, city, zipcode, street, number, complement, created_at"
if [ "$(psql "$ours_db" -Atqc 'select count(*) from customers')" = 0 ]; then
  echo "bench: copying the peers' customers into our schema"
  # The peers' seed repeats a few phone numbers, which our schema keeps unique: those rows keep
  # their first holder's number and lose it otherwise (every CPF of the sample still exists).
  psql "$DATABASE_URL" -qc "\\copy (select $columns from customers) to stdout with (format csv)" \
    | psql "$ours_db" -qv ON_ERROR_STOP=1 \
        -c "create unlogged table peers_import as select $columns from customers with no data" \
        -c "\\copy peers_import ($columns) from stdin with (format csv)" \
        -c "insert into customers ($columns)
              select ${columns/phone_number/case when row_number() over (partition by phone_number order by cpf) = 1
                                                   then phone_number end} from peers_import" \
        -c "drop table peers_import"
  psql "$ours_db" -qc "vacuum analyze customers"
fi

jwks_dir="$PEERS_DATA/jwks-public"
mkdir -p "$jwks_dir" && cp "$PEERS_DATA/jwks.json" "$jwks_dir/jwks.json"
python3 -m http.server --bind 127.0.0.1 --directory "$jwks_dir" 18100 >/dev/null 2>&1 &
jwks_pid=$!
trap 'kill $jwks_pid 2>/dev/null || true' EXIT

# Revocation checking is on by default: our service follows a revocation stream in its own Redis,
# seeded with 1000 entries (bench/revocation_seed.py). `ours_norevoke` is the same service with
# CUSTOMER_CHECK_REVOCATION=false, in the same run, for the cost of the check.
redis_port="${PORT_OURS_REDIS:-18200}"
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!
trap 'kill $jwks_pid $redis_pid 2>/dev/null || true' EXIT
for _ in $(seq 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
redis_url="redis://127.0.0.1:$redis_port/0"
(cd "$ROOT" && "$PY" -m bench.revocation_seed "$redis_url" "bench:" 1000)

port="${PORT_OURS:-18010}"
port_off="${PORT_OURS_NOREVOKE:-18011}"
common_env="CUSTOMER_DATABASE_URL=$ours_db CUSTOMER_ISSUER=$ISSUER CUSTOMER_AUDIENCE=$AUDIENCE"
common_env+=" CUSTOMER_JWKS_URL=http://127.0.0.1:18100/jwks.json CUSTOMER_API_PREFIX="
common_env+=" CUSTOMER_DB_POOL_MIN=$POOL_SIZE CUSTOMER_DB_POOL_MAX=$POOL_SIZE CUSTOMER_LOG_FORMAT=json"
ours_env="$common_env CUSTOMER_PORT=$port CUSTOMER_REDIS_URL=$redis_url CUSTOMER_REDIS_PREFIX=bench:"
ours_off_env="$common_env CUSTOMER_PORT=$port_off CUSTOMER_CHECK_REVOCATION=false"

# The harness's smoke test expects 404 for CPF 00000000000; our API refuses it as malformed (400:
# repeated digits, issue 4), as it must. Run the harness from a temporary copy in which that one
# probe asks for a well-formed CPF absent from the data instead; nothing else differs.
harness=$(mktemp -d)
trap 'kill $jwks_pid $redis_pid 2>/dev/null || true; rm -rf "$harness"' EXIT
cp -r "$PEERS_DIR/." "$harness/"
chmod -R u+w "$harness"
sed -i 's/00000000000/11144477735/' "$harness/run.sh"
grep -q 11144477735 "$harness/run.sh" || { echo "the harness changed: check its unknown-CPF probe" >&2; exit 2; }

cd "$ROOT"
EXTRA_TARGETS="ours=http://127.0.0.1:$port ours_norevoke=http://127.0.0.1:$port_off" \
EXTRA_CMD_ours="env -C $ROOT $ours_env $PY -m customer_service serve" \
EXTRA_CMD_ours_norevoke="env -C $ROOT $ours_off_env $PY -m customer_service serve" \
TOKEN_PEERS="${TOKEN_PEERS-}" \
  "$harness/run.sh"
