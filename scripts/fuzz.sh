#!/usr/bin/env bash
# Fuzzes the runtime with libFuzzer under AddressSanitizer (swiftc -sanitize=fuzzer,address), on
# every kernel level this CPU has:
#   loader     random bytes (seeded with the exported models in Tests/Fuzz/corpus and runs/*/model.mnw,
#              checksum resealed) as model files: Tests/Fuzz/LoaderFuzzer.swift
#   structure  random recipes that build valid-but-extreme models (geometry at and past the limits)
#              and compare every level with the reference kernels: Tests/Fuzz/StructureFuzzer.swift
#   fields     the exported version 3 models of Tests/Fuzz/corpus with fields of their tables set to
#              extreme values, resealed: Tests/Fuzz/FieldFuzzer.swift
# Inputs that crash it go to Tests/Fuzz/crashes/ (loader), Tests/Fuzz/structure-crashes/ or
# Tests/Fuzz/field-crashes/; commit them: ModelLoaderTests and HostileModelTests run every file
# there on every level.
#   scripts/fuzz.sh loader|structure|fields [SECONDS] [libFuzzer options...]
set -euo pipefail
cd "$(dirname "$0")/.."
kind=${1:?loader, structure or fields}
seconds=${2:-600}
shift $(( $# >= 2 ? 2 : 1 ))
build=${FUZZ_BUILD:-/tmp/minnow-fuzz}/$kind
case $kind in
    loader) sources=(Tests/Fuzz/LoaderFuzzer.swift); crashes=Tests/Fuzz/crashes ;;
    structure) sources=(Tests/Fuzz/StructureFuzzer.swift Tests/Fuzz/EveryLevel.swift Tests/MinnowRuntimeTests/ModelRecipe.swift); crashes=Tests/Fuzz/structure-crashes ;;
    fields) sources=(Tests/Fuzz/FieldFuzzer.swift Tests/Fuzz/EveryLevel.swift Tests/MinnowRuntimeTests/FieldMutation.swift Tests/MinnowRuntimeTests/TableLayout.swift)
            crashes=Tests/Fuzz/field-crashes ;;
    *) echo "fuzz.sh: unknown fuzzer '$kind' (loader, structure or fields)" >&2; exit 2 ;;
esac
mkdir -p "$build/corpus" "$crashes"
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
swiftc -O -sanitize=fuzzer,address -parse-as-library -wmo -module-name MinnowRuntime -D MINNOW_FUZZ_BUILD -I "$build" \
    Sources/MinnowRuntime/*.swift Sources/MinnowRuntime/Operators/*.swift "${sources[@]}" "$build/QuantMath.o" "${kernels[@]}" \
    -o "$build/fuzzer" 2>&1 \
    | grep -v "Cannot export local symbol" || true
if [[ $kind == loader ]]; then
    cp Tests/Fuzz/corpus/*.mnw "$build/corpus/" 2>/dev/null || true
    cp runs/*/model.mnw "$build/corpus/" 2>/dev/null || true
fi
# A crash reports through AddressSanitizer and libFuzzer at once (Swift's own backtracer can stall the run).
export SWIFT_BACKTRACE=enable=no MINNOW_FUZZ_MODELS=$PWD/Tests/Fuzz/corpus
"$build/fuzzer" "$build/corpus" -max_total_time="$seconds" -max_len=1048576 -timeout=20 -rss_limit_mb=4096 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$@"
