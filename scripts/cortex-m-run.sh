#!/usr/bin/env bash
# The runtime on a microcontroller, here: builds a bare-metal program for QEMU's mps2-an500 board
# (Cortex-M7, ARMv7E-M: no NEON, so the reference kernels) from the Embedded Swift core for
# armv7em-none-none-eabi (scripts/build-embedded.sh), the C kernels' portable part, the C example
# Examples/c/classify.c and Examples/cortex-m/startup.c (vector table, reset, semihosting start),
# linked with newlib (librdimon: files and output through semihosting) and
# Examples/cortex-m/mps2-an500.ld; runs it under qemu-system-arm on Fashion-MNIST test images and
# checks that its output codes equal, image by image, those of the same C example built for this
# host; then runs HostileModelTests' extreme files there (Tests/CInterface/extreme_models.c)
# against their committed reference codes. A 32-bit CPU: Swift's Int is 32 bits there.
#
#   scripts/cortex-m-run.sh [--model M.mnw] [--limit N] [--keep DIR]
#
# Default: Examples/models/quick-student.mnw, 100 images. Needs `scripts/setup.sh arm`.
# .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
model=Examples/models/quick-student.mnw
limit=100
keep=
while [[ $# -gt 0 ]]; do
    case $1 in
        --model) model=$2; shift 2 ;;
        --limit) limit=$2; shift 2 ;;
        --keep) keep=$2; shift 2 ;;
        *) echo "usage: scripts/cortex-m-run.sh [--model M.mnw] [--limit N] [--keep DIR]" >&2; exit 2 ;;
    esac
done
[[ $limit =~ ^[1-9][0-9]*$ ]] || { echo "cortex-m-run: --limit must be a positive integer, got '$limit'" >&2; exit 2; }
for tool in arm-none-eabi-gcc qemu-system-arm; do
    command -v "$tool" >/dev/null || { echo "cortex-m-run: $tool not found: run scripts/setup.sh arm" >&2; exit 1; }
done
images_gz=${MINNOW_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}/t10k-images-idx3-ubyte.gz
[[ -f $images_gz ]] || { echo "cortex-m-run: $images_gz not found: run scripts/setup.sh data" >&2; exit 1; }
out=${keep:-$(mktemp -d)}
[[ -n $keep ]] || trap 'rm -rf "$out"' EXIT
mkdir -p "$out"

# The Swift objects' ABI: Thumb-2, the FPU's instructions with floats passed in integer registers
# (softfp), 32-bit enums (newlib's own short enums never cross this interface). newlib's objects
# carry no .note.GNU-stack: -z noexecstack says so for them.
flags=(-mcpu=cortex-m7 -mthumb -mfloat-abi=softfp -mfpu=fpv5-d16 -fno-short-enums -O2 -std=c11)
scripts/build-embedded.sh armv7em-none-none-eabi "$out/swift"
for source in Sources/CRuntimeKernels/*.c; do
    arm-none-eabi-gcc "${flags[@]}" -I Sources/CRuntimeKernels/include -c "$source" -o "$out/kernel_$(basename "$source" .c).o"
done
arm-none-eabi-gcc "${flags[@]}" -Wall -Wextra -Werror -c Examples/cortex-m/startup.c -o "$out/startup.o"
swift_lib=$(dirname "$(dirname "$(command -v swiftc)")")/lib/swift/embedded/armv7em-none-none-eabi
link() {  # program name, then its main object
    arm-none-eabi-gcc "${flags[@]}" --specs=rdimon.specs -nostartfiles -T Examples/cortex-m/mps2-an500.ld -Wl,--no-enum-size-warning,-z,noexecstack \
        "$out/startup.o" "$2" "$out"/kernel_*.o "$out"/swift/{QuantMath,MinnowRuntime}.o "$swift_lib/libswiftUnicodeDataTables.a" -lm \
        -o "$out/$1.elf"
}
arm-none-eabi-gcc "${flags[@]}" -Wall -Wextra -Werror -DMINNOW_NO_ZLIB -I include -c Examples/c/classify.c -o "$out/classify.o"
link classify "$out/classify.o"
arm-none-eabi-gcc "${flags[@]}" -Wall -Wextra -Werror -I include -c Tests/CInterface/extreme_models.c -o "$out/extreme_models.o"
link extreme-models "$out/extreme_models.o"
echo "cortex-m-run: $(arm-none-eabi-size "$out/classify.elf" | awk 'NR == 2 {print $1}') bytes of code in the classifier for Cortex-M7"

# Arguments reach the program through semihosting (SYS_GET_CMDLINE), split at spaces.
board() {  # program, then its arguments
    local program=$1 arguments=arg=$1
    shift
    for argument in "$@"; do arguments+=",arg=$argument"; done
    qemu-system-arm -M mps2-an500 -nographic -monitor none -serial none \
        -semihosting-config "enable=on,target=native,$arguments" -kernel "$out/$program.elf"
}
gzip -dc "$images_gz" > "$out/t10k-images-idx3-ubyte"
host=$(scripts/build-c-example.sh)
"$host" "$model" "$out/t10k-images-idx3-ubyte" --limit "$limit" --codes > "$out/host.txt" 2>/dev/null
start=$(date +%s)
board classify "$model" "$out/t10k-images-idx3-ubyte" --limit "$limit" --codes > "$out/board.txt" 2> "$out/board.log" \
    || { echo "cortex-m-run: FAILED: $model on the board:" >&2; cat "$out/board.log" >&2; exit 1; }
if ! cmp -s "$out/board.txt" "$out/host.txt"; then
    echo "cortex-m-run: FAILED: $model: the Cortex-M output codes differ from the host's; first difference:" >&2
    diff "$out/board.txt" "$out/host.txt" | head -n 4 >&2
    exit 1
fi
echo "cortex-m-run: $model on $(wc -l < "$out/host.txt") test images on qemu-system-arm -M mps2-an500 (Cortex-M7), reference kernels ($(( $(date +%s) - start )) s): output codes equal to the host's, bit for bit"
board extreme-models fastest Tests/Fixtures/extreme-models/*.mnw | sed 's/^/cortex-m-run: /' \
    || { echo "cortex-m-run: FAILED: an extreme model differs from the reference kernels' codes on the board" >&2; exit 1; }
