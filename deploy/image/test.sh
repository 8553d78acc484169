#!/usr/bin/env bash
# Starts the image built by build.sh and checks it as an operator would: --version names the build,
# `validate` and `run` work against a real PostgreSQL with the password from a mounted file (the
# Kubernetes Secret's way) on a read-only root file system as uid 65532, the probes and /metrics answer,
# the rows arrive, and SIGTERM stops it cleanly. The PostgreSQL is a throwaway cluster of Debian's
# postgresql-15 on 127.0.0.1 (installed if missing). Prints one line per check; exits non-zero on the
# first failure. Usage: deploy/image/test.sh [image]   (default: the jar's version, localhost/sluice:V)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="$root/agent/target/sluice.jar"
read -r _ version _ commit < <(java -jar "$jar" --version | tr -d '()')
image="${1:-localhost/sluice:$version}"
pgbin=/usr/lib/postgresql/15/bin
podman=(podman --runtime runc --cgroup-manager=cgroupfs)
run=("${podman[@]}" run --network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
ok() { echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

[ -x "$pgbin/initdb" ] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; }
work="$(mktemp -d)"
chmod 755 "$work"
pgport=$((56000 + RANDOM % 1000))
httpport=$((57000 + RANDOM % 1000))
name="sluice-image-test-$$"
cleanup() {
  "${podman[@]}" rm -f "$name" >/dev/null 2>&1 || true
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A PostgreSQL that checks passwords on 127.0.0.1.
mkdir "$work/pg" && chown postgres "$work/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg" -A scram-sha-256 --auth-local=trust -U postgres >/dev/null
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
  -o "-c listen_addresses=127.0.0.1 -c port=$pgport -c unix_socket_directories=$work/pg" start >/dev/null
psql() { runuser -u postgres -- "$pgbin/psql" -h "$work/pg" -p "$pgport" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
secret="s3cret-$RANDOM@:/#"
psql -d postgres -c "CREATE ROLE sluice LOGIN SUPERUSER PASSWORD '$secret'" -c "CREATE DATABASE app" -c "CREATE DATABASE archive"
psql -d app -c "CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(12,2), note text)" \
  -c "INSERT INTO orders SELECT g, g / 7.0, 'order ' || g FROM generate_series(1, 20000) g"
ok "PostgreSQL 15 on 127.0.0.1:$pgport with role sluice (scram password)"

mkdir -p "$work/etc" "$work/secrets"
printf '%s\n' "$secret" > "$work/secrets/password"
chmod 0444 "$work/secrets/password"
cat > "$work/etc/sluice.json" <<JSON
{
  "\$schema": "./sluice.schema.json",
  "source": { "url": "postgresql://sluice@127.0.0.1:$pgport/app", "passwordFile": "/var/run/secrets/sluice/password" },
  "target": { "url": "postgresql://sluice@127.0.0.1:$pgport/archive", "passwordFile": "/var/run/secrets/sluice/password" },
  "http": { "host": "127.0.0.1", "port": $httpport },
  "jobs": [ { "name": "orders", "source": { "table": "public.orders", "key": ["id"] },
              "target": { "table": "public.orders", "create": true }, "segment": { "rows": 2000 } } ]
}
JSON
chmod -R a+rX "$work/etc"
mounts=(--read-only --tmpfs /tmp -v "$work/etc:/etc/sluice:ro" -v "$work/secrets:/var/run/secrets/sluice:ro")

out="$("${run[@]}" --rm "$image" --version)"
[ "$out" = "sluice $version (commit $commit)" ] || fail "--version printed '$out', expected 'sluice $version (commit $commit)'"
ok "--version: $out"

"${run[@]}" --rm "${mounts[@]}" "$image" validate --config /etc/sluice/sluice.json > "$work/validate.out" 2>&1 \
  || { cat "$work/validate.out"; fail "validate"; }
ok "validate: $(grep -m1 -i 'plan\|segment' "$work/validate.out" || head -1 "$work/validate.out")"

"${run[@]}" -d --name "$name" "${mounts[@]}" "$image" >/dev/null
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$httpport/health/ready" >/dev/null 2>&1 && break
  "${podman[@]}" container exists "$name" || fail "the container exited: $("${podman[@]}" logs "$name" 2>&1 | tail -5)"
  sleep 1
done
curl -fsS "http://127.0.0.1:$httpport/health/ready" >/dev/null || fail "/health/ready never answered 200"
ok "/health/live and /health/ready answer 200"
user="$("${podman[@]}" exec "$name" id -u 2>/dev/null || "${podman[@]}" inspect "$name" --format '{{.Config.User}}')"
[ "${user%%:*}" = 65532 ] || fail "runs as '$user', not 65532"
ok "runs as uid 65532 on a read-only root file system"
for _ in $(seq 1 180); do
  [ "$(psql -d archive -c "SELECT count(*) FROM orders" 2>/dev/null || echo 0)" = 20000 ] && break
  sleep 1
done
rows="$(psql -d archive -c "SELECT count(*) FROM orders")"
[ "$rows" = 20000 ] || fail "only $rows of 20000 rows arrived"
ok "20000 rows copied into archive.public.orders"
metrics="$(curl -fsS "http://127.0.0.1:$httpport/metrics")"
grep -q "^sluice_build_info{.*version=\"$version\"" <<<"$metrics" || grep -q '^sluice_rows_copied_total' <<<"$metrics" \
  || fail "/metrics has no Sluice series"
ok "/metrics serves $(grep -c '^sluice_' <<<"$metrics") sluice_* samples"
"${podman[@]}" logs "$name" 2>&1 | grep -qF "$secret" && fail "the container's log holds the password"
ok "the password appears nowhere in the container's log"
"${podman[@]}" stop -t 60 "$name" >/dev/null
code="$("${podman[@]}" inspect "$name" --format '{{.State.ExitCode}}')"
[ "$code" = 143 ] || [ "$code" = 0 ] || fail "exit code $code after SIGTERM"
ok "SIGTERM: stopped cleanly (exit $code)"
echo "image test passed: $image"
