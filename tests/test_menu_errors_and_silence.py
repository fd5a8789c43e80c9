"""Invalid keys and silence get a short reprompt; too many in a row end politely."""

import pytest
from conftest import run_script, said

from content.menu import End, Event, Menu, Mode, Say


def test_invalid_key_says_no_such_option_and_short_menu(menu):
    state, steps = run_script(menu, ["8"])
    text = said(steps[-1][1])
    assert text.startswith("没有这个选项")
    assert "请按1到7选择通知" in text
    assert "关于临河区" not in text  # the short menu, not the whole list again
    assert state.misses == 1


@pytest.mark.parametrize("garbage", ["A", "", "12", "abc", "١"])
def test_unknown_keys_are_invalid(menu, garbage):
    state, _ = menu.start()
    state, actions = menu.step(state, Event.press(garbage))
    assert said(actions).startswith("没有这个选项")


def test_three_misses_in_a_row_end_with_goodbye(menu):
    state, steps = run_script(menu, ["silence", "8", "silence"])
    actions = steps[-1][1]
    assert state.mode is Mode.ENDED
    assert isinstance(actions[-1], End)
    goodbye = [a for a in actions if isinstance(a, Say)][-1]
    assert goodbye.text == "感谢您的收听，再见。" and not goodbye.interruptible


def test_a_valid_input_resets_the_count(menu):
    state, _ = run_script(menu, ["silence", "8", "4", "silence", "silence"])
    assert state.mode is Mode.NOTICE
    assert state.misses == 2


@pytest.mark.parametrize("limit", [1, 5])
def test_limit_is_configurable(loaded_store, limit):
    menu = Menu(loaded_store.latest(), max_misses=limit)
    state, _ = run_script(menu, ["silence"] * (limit - 1))
    assert state.mode is Mode.TOP
    state, _ = run_script(menu, ["silence"], state)
    assert state.mode is Mode.ENDED


def test_after_goodbye_the_next_event_starts_again(menu):
    state, _ = run_script(menu, ["silence"] * 3)
    state, actions = menu.step(state, Event.press("1"))
    assert state.mode is Mode.TOP
    assert said(actions).startswith("您好")


def test_silence_while_reading_reads_on(menu):
    state, steps = run_script(menu, ["4", "1", "silence"])
    assert state.mode is Mode.READING and state.sentence == 1 and state.misses == 0


def test_unclear_speech_asks_again_in_a_menu(menu):
    state, _ = menu.start()
    state, actions = menu.step(state, Event.unclear())
    assert said(actions).startswith("没有听清")
    assert state.misses == 1 and state.mode is Mode.TOP


def test_unclear_speech_does_not_stop_reading(menu):
    state, steps = run_script(menu, ["4", "1"])
    after, actions = menu.step(state, Event.unclear())
    assert after == state
    assert [type(a).__name__ for a in actions] == ["Listen"]


def test_an_easily_confused_choice_is_confirmed_first(menu):
    from content.menu import Intent, IntentKind

    state, _ = menu.start()
    state, actions = menu.step(state, Event.check(Intent(IntentKind.CHOOSE, 4)))
    assert "您说的是第4项吗" in said(actions)
    assert state.mode is Mode.TOP and state.confirming == 4
    listen = [a for a in actions if type(a).__name__ == "Listen"][0]
    assert set(listen.keys) == {"#", "*"} and "是的" in listen.words and "不是" in listen.words
    confirmed, actions = menu.step(state, Event.press("#"))
    assert confirmed.mode is Mode.NOTICE and confirmed.confirming == 0
    assert "森林草原防灭火命令" in said(actions)
    refused, actions = menu.step(state, Event.said(Intent(IntentKind.NO)))
    assert refused.mode is Mode.TOP and refused.confirming == 0
    assert "请按1到7选择通知" in said(actions)


def test_a_clear_check_of_a_non_number_acts_at_once(menu):
    from content.menu import Intent, IntentKind

    state, _ = run_script(menu, ["4"])
    state, actions = menu.step(state, Event.check(Intent(IntentKind.CANCEL)))
    assert state.mode is Mode.TOP and not state.confirming
