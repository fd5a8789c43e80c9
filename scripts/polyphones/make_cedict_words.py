"""CC-CEDICT's words that hold a polyphone → speech/data/polyphones/cedict_words.txt.

    python -m venv /tmp/cedict && /tmp/cedict/bin/pip install pypinyin pypinyin-dict numpy
    /tmp/cedict/bin/python scripts/polyphones/make_cedict_words.py speech/data/polyphones/cedict_words.txt

CC-CEDICT (CC BY-SA 4.0, MDBG) as pypinyin-dict packs it. Only words of two to seven characters
that hold one of the BiLSTM's polyphones are kept: the front end asks it which reading a polyphone
has inside a dictionary word, and a whole dictionary would cost 50 MB resident.
"""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np
from pypinyin.contrib.tone_convert import to_tone3
from pypinyin_dict.phrase_pinyin_data.cc_cedict import phrases_dict


def main(out: str) -> None:
    with resources.files("speech").joinpath("data/polyphones/bilstm.npz").open("rb") as handle:
        polyphones = {str(c) for c in np.load(handle)["polyphones"]}
    lines = []
    for word, readings in sorted(phrases_dict.items()):
        if 2 <= len(word) <= 7 and len(readings) == len(word) and any(c in polyphones for c in word):
            syllables = [to_tone3(r[0], neutral_tone_with_five=True).replace("ü", "v") for r in readings]
            if all(s[:-1].isalpha() and s[-1].isdigit() for s in syllables):
                lines.append(f"{word}\t{' '.join(syllables)}")
    header = "# CC-CEDICT (https://cc-cedict.org, CC BY-SA 4.0): its words that hold a polyphone, in tone-numbered pinyin\n"
    with open(out, "w", encoding="utf-8") as handle:
        handle.write(header + "\n".join(lines) + "\n")
    print(f"{out}: {len(lines)} words")


if __name__ == "__main__":
    main(sys.argv[1])
