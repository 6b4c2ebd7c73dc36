#!/usr/bin/env bash
# Writes the values of an overlay's Secrets into overlays/OVERLAY/secrets/*.env (git ignores them), generating
# the token signing key, the ops access key and (local) the Redis password. Files already there are kept.
#   deploy/kubernetes/new-secrets.sh local
#   REDIS_CONNECTION_STRING='redis.internal:6380,password=…,ssl=true' deploy/kubernetes/new-secrets.sh production
set -euo pipefail
overlay=${1:-}
dir="$(cd "$(dirname "$0")" && pwd)/overlays/$overlay"
[ -n "$overlay" ] && [ -f "$dir/kustomization.yaml" ] || { echo "usage: $0 local|production" >&2; exit 2; }
secrets="$dir/secrets"

if compgen -G "$secrets/*.env" >/dev/null; then
  echo "kept the secrets in $secrets (delete that folder to make new ones)"
  exit 0
fi

# 48 random bytes, base64 without its symbols: about 60 letters and digits (the gateway wants 32 bytes or more).
random() { head -c 48 /dev/urandom | base64 -w0 | tr -d '+/='; }
signing_key=$(random)
ops_key=$(random)

if [ "$overlay" = production ]; then
  redis=${REDIS_CONNECTION_STRING:?set REDIS_CONNECTION_STRING to the external Redis (host:port,password=…,ssl=true)}
else
  redis_password=$(random)
  redis="redis-service:6379,password=$redis_password"
fi

umask 077
mkdir -p "$secrets"
[ "$overlay" = production ] || printf 'REDIS_PASSWORD=%s\n' "$redis_password" >"$secrets/redis.env"
printf 'ConnectionStrings__redis=%s\nAuth__SigningKey=%s\nOps__AccessKey=%s\n' "$redis" "$signing_key" "$ops_key" >"$secrets/realtime-gateway.env"
printf 'ConnectionStrings__redis=%s\nOps__AccessKey=%s\n' "$redis" "$ops_key" >"$secrets/chat-worker.env"
printf 'Ops__AccessKey=%s\n' "$ops_key" >"$secrets/webfrontend.env"
echo "wrote $(ls "$secrets" | tr '\n' ' ')in $secrets"
