#!/usr/bin/env bash
# Compiles the runtime's core with Embedded Swift for TARGET into OUT: QuantMath, then MinnowRuntime
# with the C interface (MinnowRuntimeC's files) as one module, from the host build's own source
# files (whole-module, -Osize), as OUT/NAME.o and OUT/NAME.swiftmodule. One module, because
# Embedded Swift specializes every generic in the module that calls it: compiled apart, the C
# interface carried a second copy of the runtime's code (177 KB of 389 KB for AArch64).
#   scripts/build-embedded.sh aarch64-none-none-elf /tmp/out
set -euo pipefail
[[ $# -eq 2 ]] || { echo "usage: scripts/build-embedded.sh TARGET OUT" >&2; exit 2; }
target=$1
out=$2
cd "$(dirname "$0")/.."
mkdir -p "$out/modules"
# SwiftPM generates the C kernels' module map; outside SwiftPM it is written here.
printf 'module CRuntimeKernels {\n    header "%s/Sources/CRuntimeKernels/include/RuntimeKernels.h"\n    export *\n}\n' "$PWD" \
    > "$out/modules/module.modulemap"
compile() {  # module name, then its source files
    local module=$1
    shift
    swiftc -target "$target" -enable-experimental-feature Embedded -wmo -Osize -parse-as-library \
        -module-name "$module" -I "$out" -I "$out/modules" -I Sources/CMinnowRuntimeAPI \
        -emit-module -emit-module-path "$out/$module.swiftmodule" -c "$@" -o "$out/$module.o"
}
compile QuantMath Sources/QuantMath/*.swift
compile MinnowRuntime -D MINNOW_RUNTIME_ONE_MODULE Sources/MinnowRuntime/*.swift Sources/MinnowRuntime/Operators/*.swift \
    Sources/MinnowRuntimeC/*.swift
