"""The menu's wording comes from one data file; a broken file is refused by name."""

import pytest

from content.menu import Menu
from content.prompts import load_prompts


def test_bundled_prompts_load_and_are_chinese():
    prompts = load_prompts()
    assert prompts.greeting.startswith("您好")
    assert prompts.invalid == "没有这个选项。"


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
