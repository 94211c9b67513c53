"""Runs one peer model N times on one image, for instruction counts under callgrind: the difference
between N = 150 and N = 50 runs, divided by 100, is the instructions per inference (the session or
interpreter setup cancels out). The model files are those `minnow bench model --peer-model` made
(shared/peers/export_onnx.py, export_tflite.py; in $PEERS_OUT, default /tmp/minnow-peers-out).

    python run_n.py onnx PATH.onnx N      # ONNX Runtime, one thread (its sess.run)
    python run_n.py tflite PATH.tflite N  # LiteRT with XNNPACK, one thread (set_tensor + invoke)
"""
import sys

import numpy as np

kind, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
x = np.zeros((1, 1, 28, 28), np.float32)
if kind == "onnx":
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = 1, 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    for _ in range(n):
        session.run(None, {"input": x})
else:
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=path, num_threads=1)
    it.allocate_tensors()
    detail = it.get_input_details()[0]
    if detail["dtype"] in (np.int8, np.uint8):
        x = np.zeros(detail["shape"], detail["dtype"])
    else:
        x = np.zeros(detail["shape"], np.float32)
    for _ in range(n):
        it.set_tensor(detail["index"], x)
        it.invoke()
