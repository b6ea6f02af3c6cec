#!/bin/sh
# Generate the secrets docker-compose.yml reads, once, into deploy/secrets/ (git-ignored):
#   key-encryption-key  the auth service's key-encryption key (32 random bytes, base64url), a
#                       compose secret mounted at /run/secrets/key-encryption-key
#   postgres.env        the database password, as POSTGRES_PASSWORD for the server and PGPASSWORD
#                       for the services and migrations (asyncpg reads it; URLs carry no password)
# Existing files are kept: regenerating the key-encryption key would make every stored signing
# key unreadable. Back the key up apart from the database backups (see deploy/README.md).
set -eu
dir="${1:-$(dirname "$0")/secrets}"
mkdir -p "$dir"
chmod 0700 "$dir"  # only you can reach the files; inside the container uid 10001 must read them

random_b64url() {
  head -c "$1" /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

if [ ! -s "$dir/key-encryption-key" ]; then
  (umask 022 && random_b64url 32 > "$dir/key-encryption-key")
  echo "created $dir/key-encryption-key"
fi
if [ ! -s "$dir/postgres.env" ]; then
  password="$(random_b64url 24)"
  (umask 077 && printf 'POSTGRES_PASSWORD=%s\nPGPASSWORD=%s\n' "$password" "$password" > "$dir/postgres.env")
  echo "created $dir/postgres.env"
fi
