#!/usr/bin/env bash
# Make sure a Chromium exists for browser logins and the browser tests.
# Order: PLAYWRIGHT_BROWSER_PATH; a system Chromium; Playwright's own download; Debian's package
# (when running as root with apt-get). Playwright's download does not work on every machine.
# As root with apt-get, also a CJK font (Debian fonts-noto-cjk), so Chinese pages show glyphs.
set -u
PY="${1:-python3}"
# Xvfb lets the headed-mode test open a real window on a machine without a screen (optional).
if ! command -v Xvfb >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get install -y -qq xvfb >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq xvfb >/dev/null 2>&1; } || true
fi
# A CJK font, so that the Chinese page shows glyphs and not boxes (the browser tests check it).
if ! fc-list :lang=zh 2>/dev/null | grep -q . && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing a CJK font (fonts-noto-cjk)..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1; } \
    || echo "Could not install fonts-noto-cjk: Chinese text will show as boxes." >&2
fi
if [ -n "${PLAYWRIGHT_BROWSER_PATH:-}" ] && [ -x "$PLAYWRIGHT_BROWSER_PATH" ]; then exit 0; fi
for name in chromium chromium-browser google-chrome; do
  command -v "$name" >/dev/null 2>&1 && exit 0
done
ls -d "${PLAYWRIGHT_BROWSERS_PATH:-$HOME/.cache/ms-playwright}"/chromium-* >/dev/null 2>&1 && exit 0
echo "No Chromium found: trying Playwright's download..." >&2
"$PY" -m playwright install chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium package..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    && exit 0
fi
echo "No Chromium: install your distribution's chromium package, or run" \
     "'backend/.venv/bin/python -m playwright install chromium', or set PLAYWRIGHT_BROWSER_PATH." >&2
exit 1
