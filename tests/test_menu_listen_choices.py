"""Listen actions carry exactly the inputs valid at that point, keys and spoken words alike."""

from conftest import run_script

from content.menu import Event, Intent, IntentKind, Listen, Mode


def _listen(actions):
    return [a for a in actions if isinstance(a, Listen)][-1]


def test_top_menu_choices(menu):
    state, actions = menu.start()
    listen = _listen(actions)
    assert listen.keys == ("1", "2", "3", "4", "5", "6", "7", "9", "0", "*")
    for word in ("三", "第三条", "取消", "停止", "重复", "全部"):
        assert word in listen.words
    assert "#" not in listen.keys  # one page only


def test_reading_choices(menu):
    state, steps = run_script(menu, ["4", "1"])
    listen = _listen(steps[-1][1])
    assert set(listen.keys) == {"*", "0", "#", "2", "4", "6", "8"}  # and louder, slower, faster, softer
    assert {"取消", "停止", "下一条", "上一条", "重复", "再说一遍"} <= set(listen.words)


def test_every_advertised_choice_is_accepted_and_nothing_else(menu):
    for script in ([], ["4"], ["4", "3"], ["4", "1"], ["4", "1", "done", "done", "done", "done", "done"], ["9"]):
        state, steps = run_script(menu, script) if script else menu.start()
        listen = _listen(steps[-1][1] if script else steps)
        for choice in listen.choices:
            if choice.key:
                _, actions = menu.step(state, Event.press(choice.key))
                assert "没有这个选项" not in "".join(getattr(a, "text", "") for a in actions[:2]), (script, choice)
            _, actions = menu.step(state, Event.said(choice.intent))
            assert "没有这个选项" not in "".join(getattr(a, "text", "") for a in actions[:2]), (script, choice)
        for key in set("0123456789*#") - set(listen.keys):
            _, actions = menu.step(state, Event.press(key))
            assert "没有这个选项" in "".join(getattr(a, "text", "") for a in actions[:2]), (script, key)


def test_spoken_choice_means_the_same_as_the_key(menu):
    state, _ = menu.start()
    by_key, _ = menu.step(state, Event.press("4"))
    by_word, _ = menu.step(state, Event.said(Intent(IntentKind.CHOOSE, 4)))
    assert by_key == by_word
    assert by_key.mode is Mode.NOTICE
