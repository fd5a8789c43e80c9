"""g2pM's published BiLSTM (kakaobrain/g2pM, Apache-2.0, trained by its authors on CPP's train
split) → speech/data/polyphones/bilstm.npz: NumPy arrays only, read by speech/polyphones/bilstm.py.

    python -m venv /tmp/g2pm && /tmp/g2pm/bin/pip install g2pM==0.1.2.5 numpy
    /tmp/g2pm/bin/python scripts/polyphones/convert_g2pm.py speech/data/polyphones/bilstm.npz

The package's pickles are read once, here, and never at run time.
"""

from __future__ import annotations

import os
import pickle
import sys

import numpy as np


def main(out: str) -> None:
    import g2pM  # the published package, in a throwaway venv

    folder = os.path.dirname(g2pM.__file__)
    load = lambda name: pickle.load(open(os.path.join(folder, name), "rb"))  # noqa: E731
    state, char2idx, class2idx, cedict = load("np_ckpt.pkl"), load("char2idx.pkl"), load("class2idx.pkl"), load("digest_cedict.pkl")
    chars = [""] * len(char2idx)
    for char, index in char2idx.items():
        chars[index] = char
    classes = [""] * len(class2idx)
    for reading, index in class2idx.items():
        classes[index] = reading.replace("u:", "v")
    polyphones = sorted(c for c, readings in cedict.items() if len(readings) > 1 and len(c) == 1)
    candidates = [",".join(r.replace("u:", "v") for r in cedict[c] if r in class2idx) for c in polyphones]
    arrays = {name.replace(".", "_"): np.asarray(value, dtype=np.float32) for name, value in state.items()}
    np.savez_compressed(
        out, **arrays, chars=np.array(chars), classes=np.array(classes),
        polyphones=np.array(polyphones), candidates=np.array(candidates),
        begin=np.array([char2idx["시"]]), end=np.array([char2idx["끝"]]), unknown=np.array([char2idx["<UNK>"]]),
    )
    print(f"{out}: {len(chars)} characters, {len(classes)} readings, {len(polyphones)} polyphones")


if __name__ == "__main__":
    main(sys.argv[1])
