#!/usr/bin/env bash
# Copies the front-end libraries that npm installed (package-lock.json) into static/vendor/.
# static/vendor/ is built, never committed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=static/vendor
rm -rf "$out"
mkdir -p "$out/htmx" "$out/pico"
cp node_modules/htmx.org/dist/htmx.min.js "$out/htmx/"
cp node_modules/htmx.org/LICENSE "$out/htmx/LICENSE" 2>/dev/null || true
cp node_modules/@picocss/pico/css/pico.min.css "$out/pico/"
cp node_modules/@picocss/pico/LICENSE.md "$out/pico/" 2>/dev/null || true
mkdir -p "$out/leaflet"
cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css "$out/leaflet/"
cp -r node_modules/leaflet/dist/images "$out/leaflet/"
cp node_modules/leaflet/LICENSE "$out/leaflet/" 2>/dev/null || true
# axe-core (a devDependency) checks accessibility in the browser tests (tests/e2e/test_every_page.py).
if [ -d node_modules/axe-core ]; then
  mkdir -p "$out/axe-core"
  cp node_modules/axe-core/axe.min.js node_modules/axe-core/LICENSE "$out/axe-core/"
fi
touch "$out/.built"
