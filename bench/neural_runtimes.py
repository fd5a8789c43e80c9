"""The neural voice's two models run bare, by ONNX Runtime or by TensorFlow Lite, on the same
phoneme ids: load time and real-time factor. bench/tts.py runs this in a process of its own for
each runtime (TensorFlow Lite from a throwaway environment; the service never needs it).

    python bench/neural_runtimes.py onnx FOLDER PHRASES.json
    python bench/neural_runtimes.py tflite FOLDER PHRASES.json
    python bench/neural_runtimes.py onnx FOLDER PHRASES.json --at-once 2

PHRASES.json is a list of [phoneme ids, speed ratio]. --at-once N runs the phrases on N threads
sharing the sessions, as the service runs ONNX Runtime (TensorFlow Lite's interpreter is not
thread-safe: the service ran it one phrase at a time). It imports nothing of tingwen, so it runs
in an environment that has only numpy and the runtime. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import numpy as np

SAMPLE_RATE = 24_000


def _onnx(folder: str):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # as the service runs it (speech/neural.py)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    acoustic = onnxruntime.InferenceSession(f"{folder}/fastspeech2.onnx", options, providers=["CPUExecutionProvider"])
    vocoder = onnxruntime.InferenceSession(f"{folder}/mb_melgan.onnx", options, providers=["CPUExecutionProvider"])
    mel_name = acoustic.get_outputs()[1].name

    def run(ids: list[int], speed: float) -> np.ndarray:
        inputs = {"input_ids": np.array([ids], np.int32), "speaker_ids": np.array([0], np.int32),
                  "speed_ratios": np.array([speed], np.float32), "f0_ratios": np.array([1.0], np.float32),
                  "energy_ratios": np.array([1.0], np.float32)}  # fmt: skip
        mel = acoustic.run([mel_name], inputs)[0]
        return vocoder.run(None, {"mels": mel})[0]

    return run


def _tflite(folder: str):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    acoustic = tf.lite.Interpreter(model_path=f"{folder}/fastspeech2_quan.tflite")
    vocoder = tf.lite.Interpreter(model_path=f"{folder}/mb_melgan.tflite")

    def run(ids: list[int], speed: float) -> np.ndarray:
        inputs = acoustic.get_input_details()
        acoustic.resize_tensor_input(inputs[0]["index"], [1, len(ids)])
        acoustic.allocate_tensors()
        values = (np.array([ids], np.int32), np.array([0], np.int32), np.array([speed], np.float32),
                  np.array([1.0], np.float32), np.array([1.0], np.float32))  # fmt: skip
        for detail, value in zip(inputs, values):
            acoustic.set_tensor(detail["index"], value)
        acoustic.invoke()
        mel = acoustic.get_tensor(acoustic.get_output_details()[1]["index"])
        mel_input = vocoder.get_input_details()[0]["index"]
        vocoder.resize_tensor_input(mel_input, mel.shape)
        vocoder.allocate_tensors()
        vocoder.set_tensor(mel_input, mel)
        vocoder.invoke()
        return vocoder.get_tensor(vocoder.get_output_details()[0]["index"])

    return run


def main() -> None:
    runtime, folder, phrases_file = sys.argv[1:4]
    with open(phrases_file, encoding="utf-8") as handle:
        phrases = json.load(handle)
    started = time.perf_counter()
    run = (_onnx if runtime == "onnx" else _tflite)(folder)
    first = run(*phrases[0])  # load and the first phrase, as a process that starts to speak
    load_seconds = time.perf_counter() - started
    at_once = int(sys.argv[sys.argv.index("--at-once") + 1]) if "--at-once" in sys.argv else 1
    seconds = [0.0] * at_once

    def work(part: int) -> None:
        for ids, speed in phrases[part::at_once]:
            seconds[part] += run(ids, speed).shape[1] / SAMPLE_RATE

    import threading

    began = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(at_once)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall, speech = time.perf_counter() - began, sum(seconds)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"runtime": runtime + (f" x{at_once}" if at_once > 1 else ""), "load_s": load_seconds, "first_samples": int(first.shape[1]), "wall_s": wall,
                      "speech_s": speech, "peak_mb": peak_mb}))  # fmt: skip


if __name__ == "__main__":
    main()
