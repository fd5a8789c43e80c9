"""g2pM's BiLSTM run in NumPy: each polyphone of a sentence gets a score per reading.

The weights (speech/data/polyphones/bilstm.npz, made by scripts/polyphones/convert_g2pm.py) are
g2pM's, trained by its authors on CPP's train split. The forward pass is ours: the input side of
both directions is one matrix product for the whole sentence, so only the small recurrent product
is left in the loop over characters.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class BiLstm:
    arrays: dict[str, np.ndarray]
    index: dict[str, int]  # character → row of the embedding
    candidates: dict[str, list[tuple[str, int]]]  # polyphone → (reading, class) pairs

    def is_polyphone(self, char: str) -> bool:
        return char in self.candidates

    def scores(self, sentence: str, positions: list[int]) -> list[dict[str, float]]:
        """For each of `positions` (each a polyphone of `sentence`), its readings' scores."""
        if not positions:
            return []
        a = self.arrays
        unknown = int(a["unknown"][0])
        ids = [int(a["begin"][0]), *(self.index.get(c, unknown) for c in sentence), int(a["end"][0])]
        embedded = a["embedding_weight"][ids]
        forward = self._run(embedded @ a["lstm_weight_ih_l0"].T + a["lstm_bias"], a["lstm_weight_hh_l0"].T)
        backward = self._run((embedded @ a["lstm_weight_ih_l0_reverse"].T + a["lstm_bias_reverse"])[::-1], a["lstm_weight_hh_l0_reverse"].T)[::-1]
        rows = np.array(positions) + 1  # the begin marker is row 0
        hidden = np.concatenate([forward[rows], backward[rows]], axis=1)
        layer = np.maximum(hidden @ a["logit_layer_0_weight"].T + a["logit_layer_0_bias"], 0)
        found = []
        for row, position in zip(layer, positions):
            pairs = self.candidates[sentence[position]]
            logits = row @ a["logit_layer_2_weight"][[c for _, c in pairs]].T + a["logit_layer_2_bias"][[c for _, c in pairs]]
            found.append({reading: float(v) for (reading, _), v in zip(pairs, logits)})
        return found

    @staticmethod
    def _run(inputs: np.ndarray, recurrent: np.ndarray) -> np.ndarray:
        """One direction of the LSTM (PyTorch's gate order i, f, g, o) over precomputed inputs."""
        size = recurrent.shape[0]
        h = np.zeros(size, dtype=np.float32)
        c = np.zeros(size, dtype=np.float32)
        out = np.empty((len(inputs), size), dtype=np.float32)
        for t, x in enumerate(inputs):
            gates = x + h @ recurrent
            i, f, o = (1 / (1 + np.exp(-gates[k * size:(k + 1) * size])) for k in (0, 1, 3))
            c = f * c + i * np.tanh(gates[2 * size:3 * size])
            h = o * np.tanh(c)
            out[t] = h
        return out


@cache
def load_bilstm() -> BiLstm:
    """The shipped weights, read once per process."""
    with resources.files("speech").joinpath("data/polyphones/bilstm.npz").open("rb") as handle:
        raw = dict(np.load(handle))
    arrays = {k: v for k, v in raw.items() if v.dtype == np.float32}
    arrays["lstm_bias"] = raw["lstm_bias_ih_l0"] + raw["lstm_bias_hh_l0"]
    arrays["lstm_bias_reverse"] = raw["lstm_bias_ih_l0_reverse"] + raw["lstm_bias_hh_l0_reverse"]
    for name in ("begin", "end", "unknown"):
        arrays[name] = raw[name]
    classes = {reading: index for index, reading in enumerate(str(r) for r in raw["classes"])}
    candidates = {
        str(char): [(r, classes[r]) for r in str(readings).split(",") if r]
        for char, readings in zip(raw["polyphones"], raw["candidates"])
    }
    return BiLstm(arrays, {str(c): i for i, c in enumerate(raw["chars"])}, {c: p for c, p in candidates.items() if len(p) > 1})
