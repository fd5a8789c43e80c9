"""The combiner: a linear model, trained on CPP's dev split, that weighs the BiLSTM's scores
against the dictionaries' word readings and the characters around a polyphone.

Its weights are speech/data/polyphones/combiner.npz (scripts/polyphones/train_combiner.py):
feature names, one weight each, an intercept, and the log counts of the readings in CPP's train
labels (the `prior` feature).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np


@dataclass(frozen=True)
class Combiner:
    weights: dict[str, float]
    intercept: float
    priors: dict[str, float]

    def score(self, features: dict[str, float]) -> float:
        return self.intercept + sum(self.weights.get(name, 0.0) * value for name, value in features.items())

    def choose(self, candidates: dict[str, dict[str, float]]) -> str:
        return max(candidates, key=lambda reading: self.score(candidates[reading]))


def save_combiner(path: str, weights: dict[str, float], intercept: float, priors: dict[str, float]) -> None:
    kept = {n: w for n, w in weights.items() if abs(w) > 1e-4}
    np.savez_compressed(
        path, names=np.array(list(kept)), weights=np.array(list(kept.values()), dtype=np.float32),
        intercept=np.array([intercept], dtype=np.float32),
        prior_readings=np.array(list(priors)), prior_values=np.array(list(priors.values()), dtype=np.float32),
    )


_trial: list[Combiner] = []  # a combiner being trained, measured through the whole reading


def try_combiner(combiner: Combiner | None) -> None:
    """Read with `combiner` instead of the shipped one (None: the shipped one again). For
    scripts/polyphones/train_combiner.py, which measures each fold as the service reads."""
    _trial[:] = [combiner] if combiner else []


def load_combiner() -> Combiner:
    return _trial[0] if _trial else _shipped()


@cache
def _shipped() -> Combiner:
    with resources.files("speech").joinpath("data/polyphones/combiner.npz").open("rb") as handle:
        raw = dict(np.load(handle))
    return Combiner(
        dict(zip((str(n) for n in raw["names"]), (float(w) for w in raw["weights"]))),
        float(raw["intercept"][0]),
        dict(zip((str(r) for r in raw["prior_readings"]), (float(v) for v in raw["prior_values"]))),
    )
