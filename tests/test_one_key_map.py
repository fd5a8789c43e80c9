"""The key and command map is stated once (content/keys.py): the menu, the prompts, the kiosk and
the README are made from it or checked against it, so a second copy cannot drift."""

import re
from pathlib import Path

import pytest

from content.commands import load_vocabulary
from content.keys import ALL_KEYS, ITEM_KEYS, KEYS, IntentKind, key_of, markdown_table, page_intents, prompt_keys
from content.menu import Menu, MenuState, Mode, Resume
from content.office_hours import OfficeHours
from content.prompts import load_prompts

ROOT = Path(__file__).resolve().parents[1]


def test_the_readme_table_is_the_key_map():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert markdown_table(load_vocabulary()) in readme, "README's key table differs from content/keys.py: paste markdown_table()"


def test_no_prompt_names_a_key_but_through_the_key_map():
    text = (ROOT / "content/data/prompts.toml").read_text("utf-8")
    said = [line for line in text.splitlines() if not line.startswith("#")]
    literal = [line for line in said if re.search(r"按(星号键|井号键|[0-9*#](?!到))", line)]
    assert literal == []  # 按1到{last} is the first item key, said as a range
    loaded = vars(load_prompts())
    assert not [name for name, prompt in loaded.items() if "_key}" in prompt]  # every key placeholder filled
    assert prompt_keys()["cancel_key"] in loaded["reading_start"]  # 按星号键停止, as the key map says it


def test_an_unknown_key_placeholder_is_refused_by_name(tmp_path):
    text = (ROOT / "content/data/prompts.toml").read_text("utf-8").replace("{cancel_key}", "{stop_key}")
    path = tmp_path / "prompts.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ValueError, match=r"unknown key \{stop_key\}"):
        load_prompts(path)


PHONE_ONLY = {IntentKind.SUBSCRIBE, IntentKind.UNSUBSCRIBE, IntentKind.OPERATOR, IntentKind.TEXT}


@pytest.mark.parametrize("phone", [False, True])
def test_every_key_the_menu_listens_for_is_the_key_maps(loaded_store, phone):
    """Every state's keys are the key map's, no key means two things in one state, and every
    row of the map is reachable (the phone's own rows on the phone's menu alone)."""
    hours = OfficeHours.parse("Mon-Fri 09:00-17:00") if phone else None
    menu = Menu(loaded_store.latest(), subscription=phone, office_hours=hours, texting=phone)
    remembered = menu.start(resume=Resume(menu.notices[0].id, 0, 0))[0]  # 接着听? (a caller the phone remembers)
    first = menu.notices[0].id
    states = [MenuState(), MenuState(subscribed=True), MenuState(mode=Mode.READING, notice_id=first), MenuState(mode=Mode.PART_END, notice_id=first),
              MenuState(confirming=1), remembered, MenuState(mode=Mode.NOTICE, notice_id=first), MenuState(mode=Mode.READ_ALL)]
    seen = set()
    for state in states:
        keys = [choice.key for choice in menu.choices(state) if choice.key is not None]
        assert len(keys) == len(set(keys)), (state.mode, keys)
        for choice in menu.choices(state):
            kind = choice.intent.kind
            if kind is IntentKind.CHOOSE:
                assert choice.key == ITEM_KEYS[choice.intent.number - 1]
            elif choice.key is not None:
                assert choice.key == key_of(kind), (state, choice)
            seen.add(kind)
    assert seen == {row.intent for row in KEYS} - (set() if phone else PHONE_ONLY)


def test_every_key_is_one_a_keypad_has_and_each_page_key_has_one_intent():
    assert all(row.key in ALL_KEYS for row in KEYS if row.key)
    keys = page_intents()
    assert set(keys) <= set(ALL_KEYS) and all(keys[k] == "choose" for k in ITEM_KEYS)
    assert keys[key_of(IntentKind.CANCEL)] == "cancel" and keys[key_of(IntentKind.READ_ALL)] == "read_all"


def test_the_kiosk_page_gets_its_keys_from_the_key_map(tmp_path):
    import json

    from lxml import html

    from conftest import phone_app

    app = phone_app(tmp_path / "data")
    page = html.fromstring(app.test_client().get("/").get_data(as_text=True))
    assert json.loads(page.body.get("data-keys")) == page_intents()
    legend = page.xpath("string(//p[@class='keys'])")
    for row in KEYS:
        if row.label:
            assert f"{row.key} {row.label}" in legend
    script = (ROOT / "kiosk/static/kiosk.js").read_text("utf-8")
    assert not re.search(r"""key === ["'][*#0-9]["']""", script)  # the script maps no key itself
