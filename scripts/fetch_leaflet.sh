#!/usr/bin/env bash
# Fetch Leaflet (BSD-2) from the npm registry into planner/api/static/leaflet/, so that the API's
# map pages load Leaflet from the planner's own server (tablets on a closed network, and the
# browser tests). Not committed: third-party code stays out of the repository.
set -euo pipefail
VERSION=${LEAFLET_VERSION:-1.9.3}
DEST="$(cd "$(dirname "$0")/.." && pwd)/planner/api/static/leaflet"
[ -f "$DEST/leaflet.js" ] && exit 0
command -v npm >/dev/null || { echo "fetch_leaflet: npm not found; map pages will use the CDN" >&2; exit 0; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack "leaflet@$VERSION" --silent >/dev/null && tar -xzf "leaflet-$VERSION.tgz")
mkdir -p "$DEST/images"
cp "$TMP/package/dist/leaflet.js" "$TMP/package/dist/leaflet.css" "$DEST/"
cp "$TMP/package/dist/images/"*.png "$DEST/images/"
cp "$TMP/package/LICENSE" "$DEST/LICENSE"
echo "fetch_leaflet: Leaflet $VERSION in $DEST" >&2
