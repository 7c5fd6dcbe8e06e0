#!/usr/bin/env bash
# Installs Debian's headless Chromium and ChromeDriver for the browser tests when they are
# missing. Needs root and apt-get (as on CI); otherwise it says what to install and the
# browser tests are skipped with that reason (and fail instead when CI=true).
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium and chromium-driver with apt-get (for the browser tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq chromium chromium-driver >/dev/null
  command -v chromium >/dev/null 2>&1 && exit 0
fi
echo "chromium/chromedriver not installed: run 'sudo apt-get install chromium chromium-driver' to run the browser tests" >&2
exit 0
