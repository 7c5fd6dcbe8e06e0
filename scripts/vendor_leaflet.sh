#!/usr/bin/env bash
# Vendors Leaflet and the folium plugins the equity map uses into
# src/assetmap/outputs/_vendor/, so offline maps (equity_map(..., offline=True)) inline them and
# never download anything at run time. Run by a maintainer when upgrading; the result is committed.
#
# Versions match the CDN links folium 0.20 writes, so online and offline maps run the same code:
#   leaflet 1.9.3 (BSD-2-Clause), leaflet.fullscreen 3.0.0 (MIT),
#   leaflet-minimap 3.6.1 (BSD-2-Clause), leaflet-measure 2.1.7 (MIT).
# Uses `npm pack` (the npm registry), unpacks each tarball and copies the dist files + LICENSE.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/src/assetmap/outputs/_vendor"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() {  # fetch NAME VERSION -> unpacked dir on stdout
  local name="$1" version="$2" tgz
  tgz="$(cd "$work" && npm pack --silent "$name@$version" 2>/dev/null | tail -n 1)"
  mkdir -p "$work/$name"
  tar --warning=no-unknown-keyword -xzf "$work/$tgz" -C "$work/$name"
  echo "$work/$name/package"
}

rm -rf "$dest"
mkdir -p "$dest"

p="$(fetch leaflet 1.9.3)"
mkdir -p "$dest/leaflet/images"
cp "$p/dist/leaflet.js" "$p/dist/leaflet.css" "$dest/leaflet/"
cp "$p/dist/images/"*.png "$dest/leaflet/images/"
cp "$p/LICENSE" "$dest/leaflet/LICENSE"

p="$(fetch leaflet.fullscreen 3.0.0)"
mkdir -p "$dest/fullscreen"
cp "$p/Control.FullScreen.js" "$p/Control.FullScreen.css" "$p/icon-fullscreen.svg" "$dest/fullscreen/"
cp "$p/LICENSE" "$dest/fullscreen/LICENSE"

p="$(fetch leaflet-minimap 3.6.1)"
mkdir -p "$dest/minimap/images"
cp "$p/dist/Control.MiniMap.min.js" "$p/dist/Control.MiniMap.min.css" "$dest/minimap/"
cp "$p/dist/images/"* "$dest/minimap/images/"
cp "$p/LICENSE.txt" "$dest/minimap/LICENSE"

p="$(fetch leaflet-measure 2.1.7)"
mkdir -p "$dest/measure/images"
cp "$p/dist/leaflet-measure.min.js" "$p/dist/leaflet-measure.css" "$dest/measure/"
cp "$p/dist/images/"*.png "$dest/measure/images/"
cp "$p/LICENSE" "$dest/measure/LICENSE"

cat > "$dest/VERSIONS.txt" <<'TXT'
Vendored by scripts/vendor_leaflet.sh from the npm registry (npm pack); each folder keeps its LICENSE.
leaflet             1.9.3   BSD-2-Clause  dist/leaflet.js, dist/leaflet.css, dist/images/*.png
leaflet.fullscreen  3.0.0   MIT           Control.FullScreen.js, Control.FullScreen.css, icon-fullscreen.svg
leaflet-minimap     3.6.1   BSD-2-Clause  dist/Control.MiniMap.min.js, .min.css, dist/images/*
leaflet-measure     2.1.7   MIT           dist/leaflet-measure.min.js, .css, dist/images/*.png
TXT
echo "vendored into $dest"
find "$dest" -type f | sort
