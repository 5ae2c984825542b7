#!/usr/bin/env bash
# Runs every test: typecheck, unit, integration (real OpenSSH sshd) and e2e (Debian Chromium).
# Installs the Debian packages the tests need when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v /usr/sbin/sshd >/dev/null 2>&1 || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v useradd >/dev/null 2>&1 || need+=(passwd)
# System-mode deploys by a user with sudo rights (test/integration/deploy.test.ts).
command -v sudo >/dev/null 2>&1 || need+=(sudo)
command -v ps >/dev/null 2>&1 || need+=(procps)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${need[@]}" | sort -u | tr '\n' ' ')
  if [ "$(id -u)" != 0 ]; then
    echo "The tests need these Debian packages: $pkgs" >&2
    echo "Install them with: sudo apt-get install -y $pkgs" >&2
    exit 1
  fi
  echo "Installing Debian packages the tests need: $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

if [ ! -d node_modules ]; then
  echo "node_modules is missing: run 'npm install' first (see README)." >&2
  exit 1
fi

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit
echo "== build"
node scripts/build.mjs
echo "== tests"
npx vitest run "$@"
