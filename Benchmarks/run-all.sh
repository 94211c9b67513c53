#!/usr/bin/env bash
# Every benchmark of docs/performance.md, each against its peer (PyTorch, through ../shared/peers)
# in the same run. Needs the peers' venv (../shared/peers/setup.sh) and an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
# The peers' scripts (minnow bench reads MINNOW_PEERS_DIR or --peers-dir; set it to use another copy).
export MINNOW_PEERS_DIR=${MINNOW_PEERS_DIR:-$PWD/../shared/peers}
echo "loadavg before: $(cat /proc/loadavg)"
swift build -c release
M=.build/release/minnow
OPENBLAS_NUM_THREADS=1 $M bench gemm   # no OpenBLAS thread at load: docs/performance.md, GEMM
$M bench ops
$M bench train
$M bench distill
echo "loadavg after: $(cat /proc/loadavg)"
