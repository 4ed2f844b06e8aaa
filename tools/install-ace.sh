#!/usr/bin/env bash
# Install DAISY Ace (the EPUB accessibility checker) into .tools/ace, for
# `builder check` and the Ace tests (they are skipped when Ace is missing).
#
#   tools/install-ace.sh          install Debian's Chromium (if missing) and ace-cli
#
# Ace drives a headless Chromium through Puppeteer.  Puppeteer's own browser
# download is skipped: it uses Debian's chromium package instead, found through
# PUPPETEER_EXECUTABLE_PATH when builder runs Ace.  Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

ACE_VERSION="1.4.6"
PREFIX=".tools/ace"

need_apt=""
command -v chromium >/dev/null 2>&1 || need_apt="$need_apt chromium"
command -v node >/dev/null 2>&1 || need_apt="$need_apt nodejs"
command -v npm >/dev/null 2>&1 || need_apt="$need_apt npm"
if [ -n "$need_apt" ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: install$need_apt with your package manager, then run this again" >&2
    exit 1
  fi
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing system packages:$need_apt" >&2
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

installed=""
if [ -f "$PREFIX/node_modules/@daisy/ace-cli/package.json" ]; then
  installed=$(node -p "require('./$PREFIX/node_modules/@daisy/ace-cli/package.json').version")
fi
if [ "$installed" != "$ACE_VERSION" ]; then
  mkdir -p "$PREFIX"
  # .tools/ holds installed tools only: keep it out of git.
  [ -f .tools/.gitignore ] || echo "*" > .tools/.gitignore
  [ -f "$PREFIX/package.json" ] || echo '{"name": "builder-ace", "private": true}' > "$PREFIX/package.json"
  echo "installing @daisy/ace-cli@$ACE_VERSION into $PREFIX" >&2
  (cd "$PREFIX" && PUPPETEER_SKIP_DOWNLOAD=1 npm install --no-audit --no-fund --loglevel=error \
      "@daisy/ace-cli@$ACE_VERSION" >/dev/null)
fi

# A smoke test: Ace answers with its version.
"$PREFIX/node_modules/.bin/ace-cli" --version >/dev/null
echo "Ace $ACE_VERSION ready: $PREFIX/node_modules/.bin/ace-cli (browser: $(command -v chromium))" >&2
