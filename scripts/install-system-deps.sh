#!/usr/bin/env bash
# System packages the tests need: Debian's chromium for the Playwright end-to-end tests and the PDF report,
# poppler-utils (pdftotext, pdftoppm) to check the PDF report, Node.js + npm for axe-core, and a Java runtime
# (OpenJDK 17) for the PySpark cohort engine and its tests.
# Playwright never downloads a browser here; the tests and `mbcpath report` launch /usr/bin/chromium.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium fonts-dejavu-core)
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: apt-get not found; install these Debian packages by hand: ${missing[*]}" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
test -x /usr/bin/chromium
command -v pdftoppm >/dev/null
command -v npm >/dev/null
command -v java >/dev/null
