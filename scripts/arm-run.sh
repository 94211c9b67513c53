#!/usr/bin/env bash
# The runtime on ARM, here: builds a static AArch64 Linux program from the Embedded Swift core
# (scripts/build-embedded.sh), the C kernels and the C example Examples/c/classify.c (through
# include/minnow_runtime.h alone), runs it under QEMU on Fashion-MNIST test images, and checks
# that its output codes equal, image by image, those of the same program built for this host
# against libMinnowRuntimeC.so (which CInterfaceTests proves equal to `minnow run`); and that
# quantizing and invoking allocate nothing there (Tests/CInterface/invoke_allocations.c, every
# allocation of the static program wrapped and counted).
#
#   scripts/arm-run.sh [--model M.mnw]... [--zoo] [--extreme] [--limit N] [--cpu max,cortex-a53]
#                      [--kernels fastest,neon-dot,neon,reference] [--count-instructions] [--keep DIR]
#
# Default: Examples/models/quick-student.mnw, all 10,000 test images, `-cpu max` (with the int8
# matrix multiply and the dot product; cortex-a76 has the dot product alone, cortex-a53 neither),
# the fastest kernels (neon-i8mm under max, neon-dot under cortex-a76, neon under cortex-a53,
# picked by getauxval(AT_HWCAP, AT_HWCAP2)). --model may be given more than once; --zoo adds
# every model of Examples/models/zoo/ (scripts/make-zoo-models.sh: each zoo architecture, int8
# and 4-bit weights); --cpu and --kernels take comma-separated lists (kernels: fastest,
# neon-i8mm, neon-dot, neon, reference; a level the CPU lacks falls to the next), each pair run on
# the same images. --count-instructions then counts
# the instructions QEMU executes per inference for each model, CPU and kernels (a TCG plugin,
# Benchmarks/arm/instruction_count_plugin.c, adds up the executed translation blocks; the runs of
# 3 images less those of 1, halved: the interpreter's creation drops out): emulation, not a
# device's time. --extreme also runs HostileModelTests' valid but extreme files
# (Tests/Fixtures/extreme-models/: kernels of 96 x 96 taps, padding up to the dilated kernel's
# extent, pooling windows three times the input, sums at int32's edge, the structure fuzzer's
# findings that load) on each CPU and kernel level, each against the reference kernels' codes
# committed beside it (Tests/CInterface/extreme_models.c). Needs `scripts/setup.sh arm`.
# .ci/run runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
models=()
limit=10000
cpu=max
kernels=fastest
count=no
extreme=no
keep=
while [[ $# -gt 0 ]]; do
    case $1 in
        --model) models+=("$2"); shift 2 ;;
        --zoo) models+=(Examples/models/zoo/*.mnw); shift ;;
        --extreme) extreme=yes; shift ;;
        --limit) limit=$2; shift 2 ;;
        --cpu) cpu=$2; shift 2 ;;
        --kernels) kernels=$2; shift 2 ;;
        --count-instructions) count=yes; shift ;;
        --keep) keep=$2; shift 2 ;;
        *) echo "usage: scripts/arm-run.sh [--model M.mnw]... [--zoo] [--extreme] [--limit N] [--cpu max,cortex-a53] [--kernels fastest,neon,reference] [--count-instructions] [--keep DIR]" >&2; exit 2 ;;
    esac
done
[[ ${#models[@]} -gt 0 ]] || models=(Examples/models/quick-student.mnw)
[[ $limit =~ ^[1-9][0-9]*$ ]] || { echo "arm-run: --limit must be a positive integer, got '$limit'" >&2; exit 2; }
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    command -v "$tool" >/dev/null || { echo "arm-run: $tool not found: run scripts/setup.sh arm" >&2; exit 1; }
done
images_gz=${MINNOW_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}/t10k-images-idx3-ubyte.gz
[[ -f $images_gz ]] || { echo "arm-run: $images_gz not found: run scripts/setup.sh data" >&2; exit 1; }

out=${keep:-$(mktemp -d)}
[[ -n $keep ]] || trap 'rm -rf "$out"' EXIT
mkdir -p "$out"

# The AArch64 program: Embedded Swift objects, C kernels, the C example without zlib, static PIE
# (plain -static fails on a copy relocation against a protected Swift symbol).
scripts/build-embedded.sh aarch64-none-none-elf "$out/swift"
for source in Sources/CRuntimeKernels/*.c; do
    aarch64-linux-gnu-gcc -O2 -fPIE -std=c11 -I Sources/CRuntimeKernels/include -c "$source" -o "$out/kernel_$(basename "$source" .c).o"
done
aarch64-linux-gnu-gcc -O2 -fPIE -std=c11 -Wall -Wextra -Werror -DMINNOW_NO_ZLIB -I include -c Examples/c/classify.c -o "$out/classify.o"
swift_lib=$(dirname "$(dirname "$(command -v swiftc)")")/lib/swift/embedded/aarch64-none-none-elf
aarch64-linux-gnu-gcc -static-pie -fPIE "$out/classify.o" "$out"/kernel_*.o "$out"/swift/{QuantMath,MinnowRuntime}.o \
    "$swift_lib/libswiftUnicodeDataTables.a" -o "$out/classify-aarch64"
aarch64-linux-gnu-gcc -O2 -fPIE -std=c11 -Wall -Wextra -Werror -I include -c Tests/CInterface/invoke_allocations.c -o "$out/allocations.o"
aarch64-linux-gnu-gcc -static-pie -fPIE -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=posix_memalign,--wrap=aligned_alloc \
    "$out/allocations.o" "$out"/kernel_*.o "$out"/swift/{QuantMath,MinnowRuntime}.o \
    "$swift_lib/libswiftUnicodeDataTables.a" -o "$out/allocations-aarch64"
aarch64-linux-gnu-gcc -O2 -fPIE -std=c11 -Wall -Wextra -Werror -I Sources/CRuntimeKernels/include -c Tests/CInterface/neon_kernels.c \
    -o "$out/neon_kernels.o"
aarch64-linux-gnu-gcc -static-pie -fPIE "$out/neon_kernels.o" "$out"/kernel_*.o "$out"/swift/{QuantMath,MinnowRuntime}.o \
    "$swift_lib/libswiftUnicodeDataTables.a" -o "$out/neon-kernels-aarch64"
aarch64-linux-gnu-gcc -O2 -fPIE -std=c11 -Wall -Wextra -Werror -I include -c Tests/CInterface/extreme_models.c -o "$out/extreme_models.o"
aarch64-linux-gnu-gcc -static-pie -fPIE "$out/extreme_models.o" "$out"/kernel_*.o "$out"/swift/{QuantMath,MinnowRuntime}.o \
    "$swift_lib/libswiftUnicodeDataTables.a" -o "$out/extreme-models-aarch64"

# Kernel by kernel: the NEON levels each CPU has against QuantMath's arithmetic.
IFS=, read -r -a cpus <<<"$cpu"
for model_cpu in "${cpus[@]}"; do
    qemu-aarch64 -cpu "$model_cpu" "$out/neon-kernels-aarch64" | sed "s/^/arm-run: -cpu $model_cpu: /" \
        || { echo "arm-run: FAILED: the NEON kernels differ from the reference under -cpu $model_cpu" >&2; exit 1; }
done

IFS=, read -r -a levels <<<"$kernels"
if [[ $extreme == yes ]]; then
    for model_cpu in "${cpus[@]}"; do
        for level in "${levels[@]}"; do
            qemu-aarch64 -cpu "$model_cpu" "$out/extreme-models-aarch64" "$level" Tests/Fixtures/extreme-models/*.mnw | sed "s/^/arm-run: -cpu $model_cpu: /" \
                || { echo "arm-run: FAILED: an extreme model differs from the reference kernels under -cpu $model_cpu --kernels $level" >&2; exit 1; }
        done
    done
fi

# The host program, on this CPU's fastest kernels.
host=$(scripts/build-c-example.sh)

gzip -dc "$images_gz" > "$out/t10k-images-idx3-ubyte"
for model in "${models[@]}"; do
    "$host" "$model" "$out/t10k-images-idx3-ubyte" --limit "$limit" --codes > "$out/host.txt" 2>/dev/null
    [[ -s $out/host.txt ]] || { echo "arm-run: FAILED: the host program classified no images with $model" >&2; exit 1; }
    for model_cpu in "${cpus[@]}"; do
        for level in "${levels[@]}"; do
            start=$(date +%s)
            qemu-aarch64 -cpu "$model_cpu" "$out/classify-aarch64" "$model" "$out/t10k-images-idx3-ubyte" --limit "$limit" --codes \
                --kernels "$level" > "$out/aarch64.txt" 2> "$out/aarch64.log" \
                || { echo "arm-run: FAILED: $model under -cpu $model_cpu --kernels $level:" >&2; cat "$out/aarch64.log" >&2; exit 1; }
            seconds=$(( $(date +%s) - start ))
            ran=$(sed -n 's/.* bytes, \(.*\) kernels$/\1/p' "$out/aarch64.log")
            if ! cmp -s "$out/aarch64.txt" "$out/host.txt"; then
                echo "arm-run: FAILED: $model under -cpu $model_cpu on the $ran kernels: the AArch64 output codes differ from the host's; first difference:" >&2
                diff "$out/aarch64.txt" "$out/host.txt" | head -n 4 >&2
                exit 1
            fi
            echo "arm-run: $model on $(wc -l < "$out/host.txt") test images under qemu-aarch64 -cpu $model_cpu, $ran kernels ($seconds s): output codes equal to the host's, bit for bit"
        done
    done
    if [[ $count == yes ]]; then
        gcc -shared -fPIC -O2 -o "$out/instruction_count.so" Benchmarks/arm/instruction_count_plugin.c
        for model_cpu in "${cpus[@]}"; do
            for level in "${levels[@]}"; do
                traced() {  # the instructions executed classifying the first $1 images
                    qemu-aarch64 -cpu "$model_cpu" -plugin "$out/instruction_count.so" -d plugin "$out/classify-aarch64" "$model" \
                        "$out/t10k-images-idx3-ubyte" --limit "$1" --kernels "$level" 2>&1 >/dev/null | sed -n 's/^instructions //p'
                }
                one=$(traced 1)
                three=$(traced 3)
                echo "arm-run: $model under -cpu $model_cpu, --kernels $level: $(( (three - one) / 2 )) instructions per inference (emulated)"
            done
        done
    fi
    qemu-aarch64 -cpu "${cpus[0]}" "$out/allocations-aarch64" "$model" \
        || { echo "arm-run: FAILED: $model allocated memory while running on AArch64" >&2; exit 1; }
done
