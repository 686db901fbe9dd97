#!/bin/sh
# Rebuilds DejaVuSans-subset.ttf, the font elbo's plots embed (see ../README.md).
# Input: DejaVuSans.ttf from Debian's fonts-dejavu-core 2.37-6
#   (sha256 abdc775b21b1bc470d50c97e790d276f2054b7504e56e5bd3e64f48d68582322).
# Tool: fonttools 4.68.0 from PyPI (`pip install fonttools==4.68.0`).
# Kept: ASCII, Latin-1, Greek letters, dashes, quotes, super/subscript digits,
# arrows and a few maths signs; hinting dropped (ab_glyph does not use it).
set -eu
src=${1:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
out=${2:-DejaVuSans-subset.ttf}
pyftsubset "$src" \
  --unicodes="U+0020-007E,U+00A0-00FF,U+0391-03A9,U+03B1-03C9,U+2013-2014,U+2016,U+2018-201D,U+2026,U+2032,U+2070-2079,U+2080-2089,U+2190-2193,U+2211,U+2212,U+221A,U+221E,U+2248,U+2260,U+2264-2265" \
  --no-hinting --layout-features='kern' --output-file="$out"
