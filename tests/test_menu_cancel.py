"""Cancel (*, 取消, 停止) stops speaking at once and goes back one level; at the top it repeats
the latest notices and never hangs up."""

import pytest
from conftest import run_script, said

from content.menu import End, Event, Intent, IntentKind, Mode, Stop

# (script before cancel, mode after cancel, words said after cancel)
CASES = [
    ([], Mode.TOP, "最新通知共有7条"),
    (["4"], Mode.TOP, "最新通知共有7条"),
    (["4", "3"], Mode.NOTICE, "共有8个部分"),
    (["4", "3", "2"], Mode.NOTICE, "共有4个部分"),
    (["4", "3", "2", "done"], Mode.NOTICE, "共有4个部分"),
    (["4", "9"], Mode.NOTICE, "共有8个部分"),
    (["6", "2", "1"], Mode.NOTICE, "共有6个部分"),
    (["6", "2"], Mode.NOTICE, "共有4个部分"),
    (["2"], Mode.TOP, "最新通知共有7条"),  # a notice read straight away goes back to the list
    (["9"], Mode.TOP, "最新通知共有7条"),
    (["9", "done", "done"], Mode.TOP, "最新通知共有7条"),
]


@pytest.mark.parametrize("how", [Event.press("*"), Event.said(Intent(IntentKind.CANCEL))])
@pytest.mark.parametrize("script, mode, words", CASES)
def test_cancel_goes_back_one_level(menu, script, mode, words, how):
    state, _ = run_script(menu, script) if script else menu.start()
    state, actions = menu.step(state, how)
    assert isinstance(actions[0], Stop)  # stop first, so front ends cut audio already playing
    assert state.mode is mode
    assert words in said(actions)
    assert not any(isinstance(a, End) for a in actions)


def test_cancel_never_hangs_up(menu):
    state, _ = menu.start()
    for _ in range(20):
        state, actions = menu.step(state, Event.press("*"))
        assert state.mode is Mode.TOP
        assert not any(isinstance(a, End) for a in actions)


def test_cancel_while_playing_says_stop_even_before_playback_finished(menu):
    state, steps = run_script(menu, ["4", "1"])
    assert state.playing
    state, actions = menu.step(state, Event.press("*"))
    assert actions[0] == Stop()
