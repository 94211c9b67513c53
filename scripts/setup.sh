#!/usr/bin/env bash
# Installs what Minnow needs on a Debian machine that has the Swift toolchain, and nothing that is
# already there. Both commands in README.md start with it, and so does .ci/run.
#
#   scripts/setup.sh              everything: system libraries, the Fashion-MNIST data set, h5py,
#                                 nbformat, Chromium (the report tests render HTML with it), and
#                                 the AArch64 and Cortex-M cross compilers and QEMU
#                                 (scripts/arm-run.sh, scripts/cortex-m-run.sh)
#   scripts/setup.sh system data  only some parts (system, data, python, browser, arm)
#
# Idempotent: when everything is installed it prints nothing and takes well under a second
# (`apt-get update` runs only when a package must be installed). Runs as root, or through sudo.
set -euo pipefail

# The Debian packages of each part.
system_packages=(pkg-config gcc libc6-dev zlib1g-dev libopenblas-dev liblapacke-dev libhdf5-dev hdf5-tools libpng-dev libturbojpeg0-dev)
data_packages=(dataset-fashion-mnist)
# Headless Chromium: the report test renders an experiment's HTML page to a PNG.
browser_packages=(chromium)
# The runtime on ARM: a cross C compiler and libc for AArch64 Linux, and QEMU's user mode to run it.
arm_packages=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm)
# The Python modules the tests import: h5py and numpy (they read Minnow's checkpoints), nbformat
# (it validates the experiment reports' notebooks).
python_modules=(h5py numpy nbformat)

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

fail() {
    echo "scripts/setup.sh: $*" >&2
    exit 1
}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo "$@"
    else
        fail "not root and no sudo: run as root, or install by hand: $*"
    fi
}

# The packages among the arguments that dpkg does not list as installed.
missing_packages() {
    local package
    for package in "$@"; do
        if [[ $(dpkg-query -W -f='${Status}' "$package" 2>/dev/null) != "install ok installed" ]]; then
            echo "$package"
        fi
    done
}

updated=no
install_packages() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    [[ ${#missing[@]} -eq 0 ]] && return 0
    command -v apt-get >/dev/null || fail "apt-get not found; install these packages by hand: ${missing[*]}"
    echo "setup: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if [[ $updated == no ]]; then
        as_root apt-get update -qq || fail "apt-get update failed"
        updated=yes
    fi
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || fail "apt-get install ${missing[*]} failed"
}

python_has_modules() {
    python3 - "$@" 2>/dev/null <<'EOF'
import importlib, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
EOF
}

# The Python modules for the python3 on the PATH: plain pip for a pyenv or venv Python, and
# --break-system-packages for Debian's own (which refuses plain pip installs).
install_python_modules() {
    command -v python3 >/dev/null || install_packages python3
    python_has_modules "${python_modules[@]}" && return 0
    echo "setup: installing ${python_modules[*]} for $(command -v python3)"
    python3 -m pip --version >/dev/null 2>&1 || install_packages python3-pip
    export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
    python3 -m pip install --quiet "${python_modules[@]}" 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages "${python_modules[@]}" \
        || fail "pip could not install ${python_modules[*]} for $(command -v python3)"
    python_has_modules "${python_modules[@]}" \
        || fail "${python_modules[*]} installed but do not import in $(command -v python3)"
}

parts=("$@")
[[ ${#parts[@]} -eq 0 ]] && parts=(system data python browser arm)
for part in "${parts[@]}"; do
    case $part in
        system) install_packages "${system_packages[@]}" ;;
        data) install_packages "${data_packages[@]}" ;;
        python) install_python_modules ;;
        browser) install_packages "${browser_packages[@]}" ;;
        arm) install_packages "${arm_packages[@]}" ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; fail "unknown part '$part' (choose from: system data python browser arm)" ;;
    esac
done
