#!/usr/bin/env bash
# Makes sure Fashion-MNIST is where Minnow looks for it, then checks and describes the files.
#
# Default directory: /usr/share/datasets/fashion-mnist, installed by Debian's
# dataset-fashion-mnist package (installed by scripts/setup.sh when files are missing).
# With MINNOW_FASHION_MNIST_DIR set, that directory is checked instead and nothing is installed.
# Safe to run again: it installs nothing when the files are already there.
set -euo pipefail

default_dir=/usr/share/datasets/fashion-mnist
dir=${MINNOW_FASHION_MNIST_DIR:-$default_dir}
stems=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)

# The path of a stem's file (.gz preferred, raw accepted), or nothing.
find_file() {
    for candidate in "$dir/$1.gz" "$dir/$1"; do
        if [[ -f $candidate ]]; then echo "$candidate"; return; fi
    done
}

missing() {
    for stem in "${stems[@]}"; do
        [[ -n $(find_file "$stem") ]] || return 0
    done
    return 1
}

if missing; then
    if [[ $dir != "$default_dir" ]]; then
        echo "error: Fashion-MNIST files missing in MINNOW_FASHION_MNIST_DIR=$dir" >&2
        echo "       put ${stems[*]} (each optionally .gz) there, or unset it to use $default_dir" >&2
        exit 1
    fi
    echo "Fashion-MNIST not found in $dir: installing Debian's dataset-fashion-mnist"
    "$(dirname "$0")/../scripts/setup.sh" data
fi

# The first 8 bytes of the (inflated) file as decimal numbers.
header() {
    if [[ $1 == *.gz ]]; then
        { gzip -dc "$1" 2>/dev/null || true; } | head -c 8 | od -An -tu1
    else
        head -c 8 "$1" | od -An -tu1
    fi
}

status=0
for stem in "${stems[@]}"; do
    file=$(find_file "$stem")
    if [[ -z $file ]]; then
        echo "error: $dir/$stem[.gz] is missing" >&2
        status=1
        continue
    fi
    if [[ $file == *.gz ]] && ! gzip -t "$file" 2>/dev/null; then
        echo "error: $file is not a valid gzip file" >&2
        status=1
        continue
    fi
    read -r m0 m1 type rank c0 c1 c2 c3 <<<"$(header "$file")"
    if [[ $m0 != 0 || $m1 != 0 || $type != 8 ]]; then
        echo "error: $file does not start with an IDX unsigned-byte header" >&2
        status=1
        continue
    fi
    count=$(( (c0 << 24) | (c1 << 16) | (c2 << 8) | c3 ))
    printf '%-50s %10d bytes  rank %d  %6d items\n' "$file" "$(stat -c %s "$file")" "$rank" "$count"
done
exit $status
