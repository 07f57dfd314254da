#!/usr/bin/env bash
# Vendor MathJax 3.2.2 (the subset the site needs) into book/_vendor/mathjax/.
#
# Run once by a maintainer when upgrading MathJax; the result is committed, so building and reading
# the book need no network. Needs npm. Only the files a page can request are kept (~2 MB):
#   tex-mml-chtml.js (the combined component Sphinx loads), the TeX extensions MathJax autoloads
#   (\boldsymbol, \cancel, \color, ...), and the CHTML woff-v2 fonts.
# Not kept: the speech-rule engine (sre/, 4 MB) used only by the menu's optional accessibility
# explorer, and the SVG output.
set -euo pipefail
VERSION=3.2.2
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/book/_vendor/mathjax"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP"
npm pack --silent "mathjax@$VERSION" >/dev/null
tar xzf "mathjax-$VERSION.tgz"
grep -q "\"version\": \"$VERSION\"" package/package.json
rm -rf "$DEST"
mkdir -p "$DEST/input/tex" "$DEST/output/chtml/fonts"
cp package/es5/tex-mml-chtml.js "$DEST/"
cp -r package/es5/input/tex/extensions "$DEST/input/tex/"
cp -r package/es5/output/chtml/fonts/woff-v2 "$DEST/output/chtml/fonts/"
cp package/LICENSE "$DEST/LICENSE"
echo "MathJax $VERSION (npm package mathjax, es5/ subset) fetched by tools/fetch_mathjax.sh" > "$DEST/VERSION.txt"
du -sh "$DEST"
