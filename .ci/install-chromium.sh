#!/usr/bin/env bash
# The browser tests (tests/test_site.py) drive Debian's chromium through Playwright; no
# browser is downloaded. A CJK font makes the glossary's Chinese terms legible in screenshots.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || need+=(fonts-wqy-zenhei)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
