"""Runs a .tflite model N times with LiteRT's interpreter (XNNPACK delegate, one thread), for
counting the instructions of N inferences under emulation (Benchmarks/arm/xnnpack-count.sh):
the count for N = 3 less the count for N = 1, halved, is one inference (loading, delegate
preparation and Python's start drop out).

    python litert_run_n.py MODEL.tflite N
"""
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: litert_run_n.py MODEL.tflite N")
    path, n = sys.argv[1], int(sys.argv[2])
    interpreter = Interpreter(model_path=path, num_threads=1)
    interpreter.allocate_tensors()
    detail = interpreter.get_input_details()[0]
    rng = np.random.default_rng(0)
    if detail["dtype"] == np.float32:
        image = rng.standard_normal(detail["shape"]).astype(np.float32)
    else:
        info = np.iinfo(detail["dtype"])
        image = rng.integers(info.min, info.max + 1, size=detail["shape"]).astype(detail["dtype"])
    for _ in range(n):
        interpreter.set_tensor(detail["index"], image)
        interpreter.invoke()
    print(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]).ravel()[:3], file=sys.stderr)


if __name__ == "__main__":
    main()
