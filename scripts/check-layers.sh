#!/usr/bin/env bash
# Checks that every module imports only modules below it. The order is declared here and only
# here: one level per line, lowest first; a module may import modules of lower levels (and
# anything outside Minnow: Foundation, ArgumentParser, ...), never one of its own level or above.
# Every folder under Sources/ must be listed. .ci/run runs this before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

levels=(
    "CBLAS CZlib CHDF5 CPNG CTurboJPEG CAllocationCounter CBuildInfo CRuntimeKernels CMinnowRuntimeAPI QuantMath"
    "MinnowKernels MinnowRuntime MinnowHDF5"
    "MinnowRuntimeC"
    "MinnowTensor"
    "MinnowNN MinnowData MinnowTestSupport"
    "MinnowModels MinnowQuantization"
    "MinnowCheckpoint"
    "MinnowTraining"
    "MinnowDistillation MinnowPruning"
    "MinnowWorkflows MinnowBench"
    "MinnowOptions MinnowExperiments"
    "minnow"
)

declare -A level
for index in "${!levels[@]}"; do
    for module in ${levels[$index]}; do level[$module]=$index; done
done

# The declaration kinds a scoped import may name (`import struct MinnowNN.Linear`).
kinds="(typealias|struct|class|enum|protocol|let|var|func)"

status=0
for folder in Sources/*/; do
    module=$(basename "$folder")
    if [[ -z ${level[$module]+set} ]]; then
        echo "check-layers: Sources/$module is not in the declared order (scripts/check-layers.sh)" >&2
        status=1
        continue
    fi
    while IFS=: read -r file line text; do
        # `import X`, `@testable import X`, `import struct X.Y` (any declaration kind): the module X.
        imported=$(sed -E "s/^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+(${kinds}[[:space:]]+)?([A-Za-z_0-9]+).*/\\4/" <<<"$text")
        [[ -n ${level[$imported]+set} ]] || continue
        if (( level[$imported] >= level[$module] )); then
            echo "check-layers: $file:$line: $module imports $imported, which is not below it" >&2
            status=1
        fi
    done < <(grep -rnE '^[[:space:]]*(@[A-Za-z_]+[[:space:]]+)*import[[:space:]]+[A-Za-z_]' "$folder" --include='*.swift' || true)
done
exit $status
