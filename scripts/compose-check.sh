#!/usr/bin/env bash
# Validates docker-compose.yml with `docker compose config` (no Docker engine needed).
# Where the compose plugin is missing, it is built from the Go module proxy once and
# installed as a Docker CLI plugin for this user.
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
COMPOSE_VERSION=v2.29.7
cd "$(dirname "$0")/.."

if ! docker compose version >/dev/null 2>&1; then
  echo "docker compose plugin missing: building docker/compose $COMPOSE_VERSION from the Go module proxy"
  gobin=$(mktemp -d)
  GOBIN="$gobin" GOFLAGS=-buildvcs=false go install "github.com/docker/compose/v2/cmd@$COMPOSE_VERSION"
  mkdir -p "$HOME/.docker/cli-plugins"
  mv "$gobin/cmd" "$HOME/.docker/cli-plugins/docker-compose"
  rm -rf "$gobin"
fi
docker compose config --quiet
docker compose --profile ferretdb config --quiet
echo "docker compose config: ok ($(docker compose --profile ferretdb config --services | tr '\n' ' '))"
