#!/usr/bin/env bash
# The anchor of the AArch64 instruction counts (issue 24): XNNPACK's int8 path, through LiteRT's
# AArch64 wheel, under the same emulator as scripts/arm-run.sh --count-instructions. An AArch64
# Python 3.11 from Debian's arm64 packages (unpacked into a folder, nothing installed), LiteRT and
# numpy wheels for manylinux aarch64 from PyPI, run by qemu-aarch64 -L; the executed instructions
# counted by Benchmarks/arm/instruction_count_plugin.c (a TCG plugin); the runs of 210 inferences
# less those of 10, over 200 (Python's start varies by about a million instructions from run to run,
# PYTHONHASHSEED fixed or not: the long difference makes that a few percent of one inference).
#
#   Benchmarks/arm/xnnpack-count.sh MODEL.tflite... [--cpu max]
#
# The .tflite files: ../shared/peers/export_tflite.py (int8: PT2E static quantization, per-channel
# int8 weights, int8 activations; LiteRT runs int8 models on XNNPACK's QS8 kernels). Emulation,
# not a device's time. Needs network access to Debian's and PyPI's registries the first time.
set -euo pipefail
cd "$(dirname "$0")"
cpu=max
models=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --cpu) cpu=$2; shift 2 ;;
        *) models+=("$1"); shift ;;
    esac
done
[[ ${#models[@]} -gt 0 ]] || { echo "usage: Benchmarks/arm/xnnpack-count.sh MODEL.tflite... [--cpu max]" >&2; exit 2; }
root=${MINNOW_ARM64_ROOT:-$HOME/.cache/minnow-arm64-python}
if [[ ! -x $root/sysroot/usr/bin/python3.11 ]]; then
    mkdir -p "$root/debs" "$root/sysroot" "$root/site" "$root/wheels"
    dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64 && apt-get update -qq; }
    (cd "$root/debs" && for package in python3.11-minimal libpython3.11-minimal libpython3.11-stdlib libc6 libexpat1 zlib1g libffi8 \
        libssl3 libbz2-1.0 liblzma5 libstdc++6 libgcc-s1 libsqlite3-0 libuuid1 libncursesw6 libtinfo6 libreadline8 libnsl2 libtirpc3 \
        libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0 libcom-err2 libkeyutils1 libdb5.3 libcrypt1; do
        apt-get download "$package:arm64" >/dev/null 2>&1 || { echo "xnnpack-count: apt-get download $package:arm64 failed" >&2; exit 1; }
    done)
    for deb in "$root"/debs/*.deb; do dpkg -x "$deb" "$root/sysroot"; done
    pip download -q --only-binary=:all: --platform manylinux2014_aarch64 --platform manylinux_2_17_aarch64 --platform manylinux_2_28_aarch64 \
        --python-version 3.11 --implementation cp ai-edge-litert numpy -d "$root/wheels"
    for wheel in "$root"/wheels/*.whl; do python3 -m zipfile -e "$wheel" "$root/site"; done
fi
gcc -shared -fPIC -O2 -o "$root/instruction_count.so" instruction_count_plugin.c
traced() {  # model, inferences: the instructions executed
    qemu-aarch64 -cpu "$cpu" -L "$root/sysroot" -E PYTHONPATH="$root/site" -E PYTHONHASHSEED=0 -plugin "$root/instruction_count.so" -d plugin \
        "$root/sysroot/usr/bin/python3.11" litert_run_n.py "$1" "$2" 2>&1 >/dev/null | sed -n 's/^instructions //p'
}
version=$(qemu-aarch64 -L "$root/sysroot" -E PYTHONPATH="$root/site" "$root/sysroot/usr/bin/python3.11" -c \
    'import importlib.metadata as m; print(m.version("ai-edge-litert"))')
for model in "${models[@]}"; do
    few=$(traced "$model" 10)
    many=$(traced "$model" 210)
    echo "xnnpack-count: $(basename "$model") (ai-edge-litert $version, XNNPACK, 1 thread) under -cpu $cpu: $(( (many - few) / 200 )) instructions per inference (emulated)"
done
