#!/usr/bin/env bash
# Fuzzes the runtime's loader and interpreter with libFuzzer (swiftc -sanitize=fuzzer,address):
# builds Tests/Fuzz/LoaderFuzzer.swift with MinnowRuntime's and QuantMath's sources and the C
# kernels, seeds the corpus with real exported models (Tests/Fuzz/corpus/*.mnw and any runs/*/model.mnw),
# and runs for SECONDS (default 600). Inputs that crash it are written to Tests/Fuzz/crashes/ and
# must become regression tests (ModelLoaderTests reads every file there).
#   scripts/fuzz-loader.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
build=${FUZZ_BUILD:-/tmp/minnow-fuzz}
mkdir -p "$build" Tests/Fuzz/crashes "$build/corpus"
cat > "$build/module.modulemap" <<MAP
module CRuntimeKernels { header "$PWD/Sources/CRuntimeKernels/include/RuntimeKernels.h" export * }
MAP
kernels=()
for kernel in Sources/CRuntimeKernels/*.c; do
    kernels+=("$build/kernel-$(basename "$kernel" .c).o")
    clang -O2 -fsanitize=fuzzer-no-link,address -ISources/CRuntimeKernels/include -c "$kernel" -o "${kernels[-1]}"
done
swiftc -O -sanitize=fuzzer,address -parse-as-library -wmo -module-name QuantMath -emit-module -emit-module-path "$build/QuantMath.swiftmodule" \
    -c Sources/QuantMath/*.swift -o "$build/QuantMath.o"
swiftc -O -sanitize=fuzzer,address -parse-as-library -wmo -module-name MinnowRuntime -I "$build" \
    Sources/MinnowRuntime/*.swift Sources/MinnowRuntime/Operators/*.swift Tests/Fuzz/LoaderFuzzer.swift "$build/QuantMath.o" "${kernels[@]}" \
    -o "$build/loader-fuzzer" 2>&1 \
    | grep -v "Cannot export local symbol" || true
cp Tests/Fuzz/corpus/*.mnw "$build/corpus/" 2>/dev/null || true
cp runs/*/model.mnw "$build/corpus/" 2>/dev/null || true
"$build/loader-fuzzer" "$build/corpus" -max_total_time="$seconds" -max_len=1048576 -artifact_prefix=Tests/Fuzz/crashes/ -print_final_stats=1
