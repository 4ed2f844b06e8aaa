#!/usr/bin/env bash
# Set-up and everyday commands, the same on a fresh Debian/Ubuntu machine and in CI.
#   ./dev.sh build   install what a build needs (no test extras), then build the sample article
#   ./dev.sh test    install what is missing (with the test extras), then run the tests
#   ./dev.sh lint    install what is missing, then ruff check and the mypy ratchet
# Extra arguments go to `builder build` or to pytest.
# The fast tests (under a minute): ./dev.sh test -m "not slow and not external"
set -euo pipefail
cd "$(dirname "$0")"

# System libraries: Pango and HarfBuzz for WeasyPrint, Java for EPUBCheck,
# poppler-utils and qpdf to look at and check PDFs, libgs-common for the CMYK
# output profile of print PDFs, PDFBox (libpdfbox2-java ...) for PDF/A-1b Preflight.
# A build needs the first line only; the tests and `builder check` the second too.
BUILD_PACKAGES="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 libgs-common"
CHECK_PACKAGES="default-jre-headless poppler-utils qpdf libpdfbox2-java libactivation-java libjaxb-api-java"
SYSTEM_PACKAGES="$BUILD_PACKAGES $CHECK_PACKAGES"

missing_system_packages() {
  local missing=""
  for pkg in $SYSTEM_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || {
      # Java may come from another package: any working `java` will do.
      if [ "$pkg" = default-jre-headless ] && command -v java >/dev/null 2>&1; then continue; fi
      missing="$missing $pkg"; }
  done
  echo "$missing"
}

install_system_packages() {
  command -v dpkg-query >/dev/null 2>&1 || return 0   # not Debian: see README
  local missing; missing=$(missing_system_packages)
  [ -z "$missing" ] && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing system packages:$missing" >&2
  if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null; }; then
    echo "error: could not install$missing; install them with your package manager (see README)" >&2
    exit 1
  fi
}

# install_python [EXTRAS]: the project into .venv, with its extras ("test" for the tests and
# the lint); a build needs none of them, so `./dev.sh build` installs only what it needs.
install_python() {
  local python="${PYTHON:-python3}" extras="${1:-}"
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv || { echo "error: '$python -m venv' failed; install python3-venv" >&2; exit 1; }
  fi
  local stamp=.venv/.installed${extras:+-$extras} target=.${extras:+[$extras]}
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e "$target"
    touch "$stamp"
  fi
}

# citeproc-js (npm `citeproc`, the CSL reference implementation) into .tools/citeproc-js,
# for tests/test_citeproc_js.py (skipped where it is missing). Without npm, or offline,
# it says so and goes on.
CITEPROC_JS_VERSION="2.4.63"
install_citeproc_js() {
  local prefix=.tools/citeproc-js
  local package="$prefix/node_modules/citeproc/package.json"
  if [ -f "$package" ] && grep -q "\"version\": \"$CITEPROC_JS_VERSION\"" "$package"; then
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
    echo "note: node/npm not found: citeproc-js not installed, its comparison tests are skipped" >&2
    return 0
  fi
  mkdir -p "$prefix"
  [ -f "$prefix/package.json" ] || echo '{"name": "builder-citeproc-js", "private": true}' > "$prefix/package.json"
  echo "installing citeproc-js (npm citeproc@$CITEPROC_JS_VERSION) into $prefix" >&2
  (cd "$prefix" && npm install --no-audit --no-fund --loglevel=error --save-exact \
      "citeproc@$CITEPROC_JS_VERSION" >/dev/null) ||
    echo "warning: could not install citeproc-js; its comparison tests are skipped" >&2
}

command="${1:-build}"; shift || true
[ "$command" = build ] && SYSTEM_PACKAGES="$BUILD_PACKAGES"
install_system_packages
case "$command" in
  build) install_python
         exec .venv/bin/builder build . "$@" ;;
  test)  install_python test,cluster
         install_citeproc_js
         exec .venv/bin/python -m pytest "$@" ;;
  lint)  install_python test,cluster
         .venv/bin/ruff check "$@" .
         exec .venv/bin/python tools/mypy_ratchet.py ;;
  *) echo "usage: ./dev.sh build|test|lint [args]" >&2; exit 2 ;;
esac
