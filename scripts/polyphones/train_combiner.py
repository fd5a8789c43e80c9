"""Train the polyphone combiner (speech/polyphones/combiner.py) on CPP's dev split.

Data recipe: CPP (Chinese Polyphones with Pinyin, kakaobrain/g2pM on GitHub, Apache-2.0) — its
data/dev.sent and data/dev.lb, and data/train.lb for the readings' counts. Each sentence marks
one polyphone with ▁ on both sides; labels are tone-numbered pinyin (u: written v here).
The train split's sentences (data/train.sent, 8 MB) could not be had on the machines this was
built on, so the BiLSTM is g2pM's own (trained on them by its authors) and the combiner above it
learns from the dev split. CPP's test split is never read: it is the outside check.

    pip install -e '.[train]'
    python scripts/polyphones/train_combiner.py CPP_DATA_FOLDER

Prints five-fold cross-validated accuracy on the dev split (the sentences whose polyphone
follows no Arabic digit or Latin letter, as the outside check counts, and all of them) beside the
BiLSTM alone and pypinyin alone, then trains on the whole split and writes
speech/data/polyphones/combiner.npz. About a minute on 2 cores.
"""

from __future__ import annotations

import collections
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction import DictVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from speech.polyphones.bilstm import load_bilstm  # noqa: E402
from speech.polyphones.combiner import Combiner, save_combiner, try_combiner  # noqa: E402
from speech.polyphones.features import Context, dictionary_reading, features  # noqa: E402
from speech.pronounce import base_readings, read_characters  # noqa: E402

MARK = "\u2581"
COUNTED = re.compile(r"^[^0-9A-Za-z]*$")  # the outside check's sentences: nothing normalised before the polyphone
C = 1.0


def read_split(folder: Path, name: str) -> list[tuple[str, int, str]]:
    sentences = (folder / f"{name}.sent").read_text("utf-8").splitlines()
    labels = (folder / f"{name}.lb").read_text("utf-8").splitlines()
    rows = []
    for sentence, label in zip(sentences, labels, strict=True):
        position = sentence.index(MARK)
        rows.append((sentence.replace(MARK, ""), position, label.strip().replace("u:", "v")))
    return rows


def main(folder: Path, errors: Path | None = None) -> None:
    started = time.monotonic()
    rows = read_split(folder, "dev")
    counts = collections.Counter(label.replace("u:", "v") for label in (folder / "train.lb").read_text("utf-8").split())
    priors = {reading: math.log(n + 1) for reading, n in counts.items()}
    bilstm = load_bilstm()
    examples, answers, groups, bilstm_right, base_right = [], [], [], [], []
    agreed: dict[int, bool] = {}  # settled by the dictionaries: right or not
    for k, (sentence, position, label) in enumerate(rows):
        base = base_readings(sentence)
        if not bilstm.is_polyphone(sentence[position]):
            continue
        scores = bilstm.scores(sentence, [position])[0]
        bilstm_right.append(max(scores, key=scores.get) == label)
        base_right.append(base[position] == label)
        context = Context(sentence, base)
        dictionaries = dictionary_reading(context, position)
        if dictionaries:
            agreed[k] = dictionaries == label
            continue
        for reading, f in features(context, position, scores, priors).items():
            examples.append(f)
            answers.append(int(reading == label))
            groups.append(k)
    everyone = sorted(set(groups) | set(agreed))
    counted = np.array([bool(COUNTED.match(rows[k][0][:rows[k][1]])) for k in everyone])
    vectorizer = DictVectorizer()
    matrix, answers, groups = vectorizer.fit_transform(examples), np.array(answers), np.array(groups)
    right, served = {}, {}  # the combiner alone; the whole reading (lists, rules, dictionaries, model)
    missed: list[str] = []
    for train, test in KFold(5, shuffle=True, random_state=0).split(everyone):
        held_out = set(np.array(everyone)[test])
        train_rows = ~np.isin(groups, list(held_out))
        model = LogisticRegression(C=C, max_iter=3000).fit(matrix[train_rows], answers[train_rows])
        try_combiner(Combiner(dict(zip(vectorizer.get_feature_names_out(), (float(w) for w in model.coef_[0]))), float(model.intercept_[0]), priors))
        for k in held_out:
            sentence, position, label = rows[k]
            reading, chosen_by = read_characters(sentence)[position]
            served[k] = reading == label
            if not served[k]:
                missed.append(f"{sentence[:position]}【{sentence[position]}】{sentence[position + 1:]}\t{label}\t{reading}\t{chosen_by}")
            right[k] = agreed[k] if k in agreed else served[k]
        try_combiner(None)
    combined = np.array([right[g] for g in everyone])
    whole = np.array([served[g] for g in everyone])
    for name, mask in (("counted (no digit or Latin letter before the polyphone)", counted), ("all", np.ones_like(counted))):
        print(f"CPP dev, {name}: {mask.sum()} sentences — pypinyin {np.mean(np.array(base_right)[mask]):.2%}, "
              f"BiLSTM {np.mean(np.array(bilstm_right)[mask]):.2%}, dictionaries + combiner {np.mean(combined[mask]):.2%}, "
              f"as tingwen reads (lists, rules, dictionaries, model; 5-fold) {np.mean(whole[mask]):.2%}")
    print(f"  the dictionaries agreed on {len(agreed)} of them ({np.mean(list(agreed.values())):.2%} right there)")
    if errors:
        errors.write_text("\n".join(sorted(missed)) + "\n", "utf-8")
        print(f"{errors}: the {len(missed)} held-out sentences read wrong")
    model = LogisticRegression(C=C, max_iter=3000).fit(matrix, answers)
    weights = dict(zip(vectorizer.get_feature_names_out(), (float(w) for w in model.coef_[0])))
    out = Path(__file__).resolve().parents[2] / "speech/data/polyphones/combiner.npz"
    save_combiner(str(out), weights, float(model.intercept_[0]), priors)
    print(f"{out}: {sum(abs(w) > 1e-4 for w in weights.values())} weights; {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cpp_data", type=Path, help="CPP's data folder (dev.sent, dev.lb, train.lb)")
    parser.add_argument("--errors", type=Path, help="write the held-out sentences read wrong here")
    arguments = parser.parse_args()
    main(arguments.cpp_data, arguments.errors)
