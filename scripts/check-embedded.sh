#!/usr/bin/env bash
# Checks that the runtime's core (QuantMath, MinnowRuntime with the C interface MinnowRuntimeC)
# compiles with Embedded Swift for bare-metal AArch64 and Cortex-M (aarch64-none-none-elf,
# armv7em-none-none-eabi) from the host build's own source files (scripts/build-embedded.sh).
# scripts/arm-run.sh links the AArch64 objects into a Linux program and runs it under QEMU.
# .ci/run runs both.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for target in aarch64-none-none-elf armv7em-none-none-eabi; do
    scripts/build-embedded.sh "$target" "$out/$target"
    echo "check-embedded: $target: $(du -cb "$out/$target"/*.o | tail -1 | cut -f1) bytes of objects (QuantMath, MinnowRuntime with its C interface)"
done
