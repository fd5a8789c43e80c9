"""A polyphone's reading decided from its sentence.

g2pM's BiLSTM (bilstm.py) scores each reading from the whole sentence; a combiner trained here
(combiner.py) weighs that against the dictionaries' readings of the words around it (features.py).
speech/pronounce.py asks its lists first, then the construction rules, then the dictionaries
(dictionary_readings), and the model (model_readings) only for the polyphones that none of
those has settled.
"""

from __future__ import annotations

from speech.polyphones.bilstm import load_bilstm
from speech.polyphones.combiner import load_combiner
from speech.polyphones.features import Context, dictionary_reading, features

__all__ = ["Context", "dictionary_readings", "model_readings", "warm_up"]

MODEL = "the context model (BiLSTM and combiner)"
DICTIONARIES = "the dictionaries (pypinyin's phrase and CC-CEDICT's word agree)"


def dictionary_readings(context: Context, settled: set[int]) -> dict[int, tuple[str, str]]:
    """Position → (reading, why) for each polyphone outside `settled` whose reading both
    dictionaries give (features.dictionary_reading)."""
    bilstm = load_bilstm()
    found = {}
    for position, char in enumerate(context.sentence):
        if position not in settled and context.base[position] and bilstm.is_polyphone(char):
            agreed = dictionary_reading(context, position)
            if agreed:
                found[position] = (agreed, DICTIONARIES)
    return found


def model_readings(context: Context, settled: set[int]) -> dict[int, tuple[str, str]]:
    """Position → (reading, why) for each polyphone outside `settled`, as the BiLSTM and the
    combiner read it."""
    bilstm, combiner = load_bilstm(), load_combiner()
    positions = [i for i, c in enumerate(context.sentence) if i not in settled and context.base[i] and bilstm.is_polyphone(c)]
    return {
        position: (combiner.choose(features(context, position, scores, combiner.priors)), MODEL)
        for position, scores in zip(positions, bilstm.scores(context.sentence, positions))
    }


def warm_up() -> None:
    """Load the weights and dictionaries before the first caller needs them."""
    model_readings(Context("银行行长", ["yin2", "hang2", "hang2", "zhang3"]), set())
    dictionary_readings(Context("行长", ["hang2", "zhang3"]), set())
