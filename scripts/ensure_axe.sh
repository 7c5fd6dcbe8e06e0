#!/usr/bin/env bash
# Installs axe-core 4 (Deque, MPL-2.0) from the npm registry into .cache/axe (git-ignored) for
# the accessibility checks in tests/test_browser.py, which read
# .cache/axe/node_modules/axe-core/axe.min.js (or $ASSETMAP_AXE). Nothing is vendored into the
# repository. Without npm it says so, and those tests are skipped (they fail when CI=true).
set -u
AXE_VERSION="${AXE_VERSION:-4.14.1}"
DIR=".cache/axe"
have=$(node -p "require('./$DIR/node_modules/axe-core/package.json').version" 2>/dev/null || true)
if [ "$have" = "$AXE_VERSION" ]; then
  exit 0
fi
if command -v npm >/dev/null 2>&1; then
  echo "installing axe-core@$AXE_VERSION into $DIR (for the accessibility tests)"
  mkdir -p "$DIR"
  npm install --no-save --no-audit --no-fund --silent --prefix "$DIR" "axe-core@$AXE_VERSION" \
    && exit 0
fi
echo "axe-core not installed: install Node.js and npm, then run 'bash scripts/ensure_axe.sh' to run the accessibility tests" >&2
exit 0
