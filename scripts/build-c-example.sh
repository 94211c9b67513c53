#!/usr/bin/env bash
# Builds the C interface's example program, Examples/c/classify.c, against the runtime's shared
# library (swift build -c release --product MinnowRuntimeC): .build/release/classify.
#   scripts/build-c-example.sh && .build/release/classify MODEL.mnw IMAGES-idx3-ubyte.gz --limit 10
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product MinnowRuntimeC >/dev/null
cc -std=c11 -O2 -Wall -Wextra -Werror -I include Examples/c/classify.c -L .build/release -lMinnowRuntimeC -lz \
    -Wl,-rpath,"$PWD/.build/release" -o .build/release/classify
echo ".build/release/classify"
