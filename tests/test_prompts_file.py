"""The menu's wording comes from one data file; a broken file is refused by name."""

import re
from dataclasses import fields

import pytest

from content.menu import Menu
from content.prompts import Prompts, load_prompts
from speech.normalize import normalize
from textrules.sentences import split_sentences


SAMPLE = {"count": 12, "page": 2, "key": 3, "title": "就业促进行动实施方案", "last": 7, "issuer": "自治区人民政府",
          "date": "2025年3月1日", "gist": "原则同意", "label": "一、总体要求", "number": 4,
          "part": "的“一、总体要求”", "hours": "周一至周五，上午九点到中午十二点"}
SPOKEN = [f.name for f in fields(Prompts) if not f.name.startswith("sms")]  # the text message is read, not heard


@pytest.mark.parametrize("name", SPOKEN)
def test_each_bundled_prompt_reads_aloud_as_plain_mandarin(name):
    """Filled in as the menu fills it, every prompt reaches the voice as Chinese alone (no key
    placeholder left unresolved, no Latin letter or digit the engine would misread), short
    enough for an elderly listener to follow in one breath or two."""
    template = getattr(load_prompts(), name)
    assert not re.search(r"\{\w+_key\}", template), f"{name} names a key the key map does not have"
    text = template.format(**SAMPLE)
    assert not re.search(r"[A-Za-z]", text), f"{name}: a Latin letter would be spelled out letter by letter"
    spoken = normalize(text)
    assert spoken and not re.search(r"[0-9]", spoken), (name, spoken)
    assert all(len(sentence) <= 60 for sentence in split_sentences(text)), name


def test_changed_wording_is_what_the_menu_says(tmp_path, loaded_store):
    from importlib import resources

    text = resources.files("content").joinpath("data/prompts.toml").read_text("utf-8")
    custom = tmp_path / "prompts.toml"
    custom.write_text(text.replace("您好，这里是听文", "欢迎致电政务热线"), "utf-8")
    state, actions = Menu(loaded_store.latest(), prompts=load_prompts(custom)).start()
    assert actions[0].text.startswith("欢迎致电政务热线")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda t: t.replace('goodbye = "感谢您的收听，再见。"', ""), "missing prompts ['goodbye']"),
        (lambda t: t + '\nfarewell = "再见"\n', "unknown prompts ['farewell']"),
        (lambda t: t.replace('goodbye = "感谢您的收听，再见。"', 'goodbye = ""'), "non-empty text: ['goodbye']"),
        (lambda t: t + "\n= broken", "prompts.toml"),
    ],
)
def test_broken_prompts_file_is_refused(tmp_path, change, message):
    from importlib import resources

    text = resources.files("content").joinpath("data/prompts.toml").read_text("utf-8")
    broken = tmp_path / "prompts.toml"
    broken.write_text(change(text), "utf-8")
    with pytest.raises(ValueError) as caught:
        load_prompts(broken)
    assert message in str(caught.value)
    assert str(broken) in str(caught.value)
