#!/usr/bin/env bash
# Renders an experiment report's HTML page in headless Chromium (Debian's `chromium`, installed by
# scripts/setup.sh) to a PNG, and checks that the page is not blank: it prints the share of pixels
# that are not white and the number of figures the page holds, and fails when either is too small.
#
#   scripts/render-report.sh notebooks-export/quick.html /tmp/quick.png [MIN_FIGURES]
set -euo pipefail
html=$(realpath "$1")
png=$2
min_figures=${3:-1}
browser=$(command -v chromium || command -v chromium-browser || true)
[[ -n $browser ]] || { echo "render-report: chromium not found (scripts/setup.sh browser installs it)" >&2; exit 1; }
rm -f "$png"
# --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,2400 \
    --screenshot="$png" "file://$html" >/dev/null 2>&1 || true
[[ -s $png ]] || { echo "render-report: chromium wrote no screenshot of $html" >&2; exit 1; }
figures=$(grep -c '<figure>' "$html" || true)
python3 - "$png" "$figures" "$min_figures" <<'PY'
import struct, sys, zlib

path, figures, min_figures = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat, header = 8, b"", None
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        header = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
width, height, depth, colour = header[:4]
assert depth == 8 and colour in (2, 6), f"unexpected PNG format: depth {depth}, colour type {colour}"
channels = 3 if colour == 2 else 4
raw, stride = zlib.decompress(idat), width * channels
rows, previous, offset = [], bytearray(stride), 0
for _ in range(height):
    kind, line = raw[offset], bytearray(raw[offset + 1:offset + 1 + stride])
    offset += 1 + stride
    for i in range(stride):
        left = line[i - channels] if i >= channels else 0
        up, corner = previous[i], previous[i - channels] if i >= channels else 0
        if kind == 1: line[i] = (line[i] + left) & 255
        elif kind == 2: line[i] = (line[i] + up) & 255
        elif kind == 3: line[i] = (line[i] + (left + up) // 2) & 255
        elif kind == 4:
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 255
    rows.append(line)
    previous = line
inked = sum(1 for line in rows for x in range(0, stride, channels) if min(line[x:x + 3]) < 200)
share = inked / (width * height)
print(f"{path}: {width}x{height}, {share:.1%} of the pixels not white, {figures} figures in the page")
if share < 0.01 or figures < min_figures:
    sys.exit("render-report: the page looks blank or lacks its figures")
PY
