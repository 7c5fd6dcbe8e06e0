#!/usr/bin/env bash
# District GIS staff: describe a study once, rebuild it every BDC release, offline if need be.
#
#   bash examples/gis_staff.sh [WORK_DIR]       (default: my_study)
#
# Steps 1-2 and 5 need no network; step 3 (fetch) downloads TIGER/Line tracts and ACS tables
# from the Census Bureau once, so every later build can run with --offline.
# Exit codes: 0 ok, 2 bad input (the message names the file, key, row or column),
# 3 network failure or an offline cache miss, 4 a privacy rule refused an output.
set -euo pipefail

work="${1:-my_study}"
here="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$work/bdc"

# 1. A commented study file for the county and the district (LEAID from NCES).
assetmap init --state TX --county Ector --district 4818000 --out "$work/study.toml" --force

# 2. The FCC BDC fixed-availability files for the state go into bdc/ (broadbandmap.fcc.gov,
#    "Data Download", one zip per technology). Here: the shipped illustrative file.
cp "$here/../data/ector/fcc/bdc_48_illustrative_ector_fixed_availability_J25.zip" "$work/bdc/"
#    Edit [sources] in study.toml to name your schools file, partner list and survey.

# 3. While online: download and cache the remote sources (export CENSUS_API_KEY first).
assetmap fetch "$work/study.toml"

# 4. Build: interactive map, print map, report, CSV/GeoPackage, manifest.json.
assetmap build "$work/study.toml"

# 5. Later, with no network (a new BDC release in bdc/, new weights...): same command.
assetmap --offline build "$work/study.toml" --out "$work/out_offline"

# The same study with only local files (shipped with the repository), no fetch needed:
#   assetmap build examples/ector_county/study.toml --out out/example
