"""`tingwen normalize`, `say` and `prerender` on the command line."""

import json

import pytest
from click.testing import CliRunner

from server import cli
from speech.audio import PHONE_RATE, read_ulaw_wav, read_wav


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args])


def test_normalize_prints_spoken_form_and_pinyin(run):
    assert run("normalize", "拨打“12119”").output.strip() == "拨打，幺二幺幺九"
    assert run("normalize", "--pinyin", "内蒙古2025年").output.strip() == "nei4 meng3 gu3 er4 ling2 er4 wu3 nian2"


@pytest.mark.parametrize("fmt", ["wav", "ulaw"])
def test_say_writes_audio(run, tmp_path, fmt):
    out = tmp_path / f"hello.{fmt}.wav"
    result = run("say", "您好，这里是听文。", "--out", str(out), "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "ulaw":
        assert len(read_ulaw_wav(out)) > PHONE_RATE  # more than a second of phone audio
    else:
        assert read_wav(out).seconds > 1.0


def test_say_rate_changes_length(run, tmp_path):
    run("say", "您好，这里是听文。", "--out", str(tmp_path / "a.wav"), "--rate", "170")
    run("say", "您好，这里是听文。", "--out", str(tmp_path / "b.wav"), "--rate", "90")
    assert read_wav(tmp_path / "b.wav").seconds > read_wav(tmp_path / "a.wav").seconds * 1.4


def test_say_rejects_bad_rate(run, tmp_path):
    result = run("say", "你好", "--out", str(tmp_path / "x.wav"), "--rate", "5")
    assert result.exit_code == 2
    assert "--rate" in result.output


def test_prerender_renders_once(run, tmp_path, corpus_path, monkeypatch):
    monkeypatch.setenv("TINGWEN_VOICE", "espeak")  # the plumbing, with the quick voice
    run("ingest", str(corpus_path))
    first = run("prerender", "--format", "ulaw")
    assert first.exit_code == 0, first.output
    audio = tmp_path / "data" / "audio"
    files = sorted(p.name for p in audio.rglob("*.ulaw.wav"))
    assert len(files) > 300
    again = run("prerender", "--format", "ulaw")
    assert again.exit_code == 0
    assert sorted(p.name for p in audio.rglob("*.ulaw.wav")) == files
    listed = json.loads(run("notices", "--json").output)
    assert len(listed) == 7


@pytest.mark.parametrize(
    "text, word, chosen_by",
    [
        ("巴彦淖尔市", "巴彦淖尔市", "the gazetteer (speech/data/places/inner_mongolia.txt)"),
        ("按时还款", "还款", "the built-in list"),
        ("乌审旗的通知", "乌审旗", "the hall's list"),  # the hall's own entry, as the service reads it
        ("银行行长", "行长", "the dictionaries (pypinyin's phrase and CC-CEDICT's word agree)"),
        ("以人民为中心", "为", "the construction rule 以…为… (wéi: take … as …) (pypinyin alone: 为 wei4)"),
        ("他还是来了", "了", "the context model (BiLSTM and combiner)"),
        ("投", "投", "the character's most common reading (also dòu)"),  # its other readings named
    ],
)
def test_normalize_why_says_what_chose_each_reading(tmp_path, text, word, chosen_by):
    from click.testing import CliRunner

    from server import cli

    (tmp_path / "pronunciations.txt").write_text("乌审旗\twu1 shen3 qi2\n", "utf-8")  # its usual reading: other tests share pypinyin
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "normalize", "--pinyin", "--why", text])
    assert result.exit_code == 0, result.output
    rows = {line.split("\t")[0].strip(): line.split("\t")[1:] for line in result.output.splitlines()[1:]}
    assert rows[word][1].startswith(chosen_by), result.output
    if word == "乌审旗":
        assert rows[word][0] == "wu1 shen3 qi2" and result.output.startswith("wu1 shen3 qi2")
