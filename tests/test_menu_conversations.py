"""Whole conversations against the real corpus: what is said and played at each step."""

import pytest
from conftest import run_script, said

from content.menu import End, Listen, Mode, Play, Stop

# (script, mode at the end, words said in the last step, path of the last Play or None)
SCRIPTS = [
    # choose the fire-prevention order: intro (title, issuer, date), then its eight parts
    (["4"], Mode.NOTICE, ["森林草原防灭火命令", "内蒙古自治区人民政府", "2025年3月3日发布", "按8，八、强化督导问责", "从头收听全文"], None),
    # into part 三, which has four items of its own
    (["4", "3"], Mode.NOTICE, ["三、强化火源治理", "共有4个部分", "按1，(一)严禁野外吸烟", "从头收听这一部分"], None),
    # reading an item starts with how to stop, then its first sentence
    (["4", "3", "1"], Mode.READING, ["开始朗读", "按星号键停止"], "3.1"),
    # an item read to its end: told what comes next
    (["4", "3", "1", "done"], Mode.PART_END, ["这一部分读完了", "下一部分是：(二)野外生产用火"], None),
    # # continues with the next part
    (["4", "3", "1", "done", "#"], Mode.READING, [], "3.2"),
    # a notice with no parts (非遗) is read straight away
    (["2"], Mode.READING, ["关于公布第八批非遗代表性项目的通知", "开始朗读"], ""),
    # the AIDS plan: the issued 规划 is not an extra level; its four parts are the menu
    (["6"], Mode.NOTICE, ["共有4个部分", "按1，一、防治目标", "按4，四、指导与评估"], None),
    (["6", "2"], Mode.NOTICE, ["二、防治措施", "共有6个部分", "按1，(一)强化宣教干预和社会动员"], None),
    # 9 in a notice reads it all from the start: the letter first
    (["7", "9"], Mode.READING, ["开始朗读"], ""),
    # during reading # skips to the next part, even past the chosen one
    (["7", "9", "#"], Mode.READING, [], "1"),
    (["7", "9", "#", "#"], Mode.READING, [], "1.1"),
    # 0 repeats the sentence being read
    (["4", "1", "0"], Mode.READING, [], "1"),
    # 9 on the top menu: every latest notice in turn, title first
    (["9"], Mode.READ_ALL, ["下面为您连续朗读最新通知", "第1条，关于临河区土地征收成片开发调整方案的批复"], None),
    (["9", "done"], Mode.READ_ALL, [], ""),
    (["9", "#"], Mode.READ_ALL, ["第2条，关于公布第八批非遗代表性项目的通知"], None),
    # wrong key: a short "no such option" and the short menu
    (["4", "3", "8"], Mode.NOTICE, ["没有这个选项", "请按1到4选择"], None),
    # silence on the top menu: reprompt, short
    (["silence"], Mode.TOP, ["没有听到您的选择", "请按1到7选择通知"], None),
    # 0 repeats the top menu with help
    (["0"], Mode.TOP, ["按1，关于临河区", "按0可以重复"], None),
]


@pytest.mark.parametrize("script, mode, words, played", SCRIPTS, ids=["-".join(s[0]) for s in SCRIPTS])
def test_script(menu, script, mode, words, played):
    state, steps = run_script(menu, script)
    actions = steps[-1][1]
    assert state.mode is mode
    text = said(actions)
    for word in words:
        assert word in text, (word, text)
    plays = [a for a in actions if isinstance(a, Play)]
    if played is None:
        assert plays == []
    else:
        assert plays and plays[-1].path == played
    assert isinstance(actions[-1], (Listen, End))


def test_welcome_then_latest_notices(menu):
    state, actions = menu.start()
    text = said(actions)
    assert text.startswith("您好，这里是听文")
    assert text.index("按1，关于临河区土地征收成片开发调整方案的批复") < text.index("按7，关于印发就业促进行动实施方案的通知")
    assert "连续收听全部通知，请按9" in text
    assert state.mode is Mode.TOP and state.greeted


def test_greeting_plays_once(menu):
    state, steps = run_script(menu, ["4", "*"])
    assert "您好" not in said(steps[-1][1])
    assert "最新通知共有7条" in said(steps[-1][1])


def test_reading_goes_sentence_by_sentence_to_the_end(menu, loaded_store):
    state, steps = run_script(menu, ["4", "1"])
    plays = [a for a in steps[-1][1] if isinstance(a, Play)]
    order = loaded_store.latest()[3]
    first_part = order.sections[0]
    heard = [plays[0].text]
    while state.mode is Mode.READING:
        state, steps = run_script(menu, ["done"], state)
        heard += [a.text for a in steps[-1][1] if isinstance(a, Play)]
    assert heard[0] == "一、防火期和戒严管制期。"
    assert "".join(heard[1:]) == first_part.text
    assert state.mode is Mode.PART_END


def test_previous_goes_back_a_part(menu):
    from content.menu import Event, Intent, IntentKind

    state, steps = run_script(menu, ["4", "2"])
    state, actions = menu.step(state, Event.said(Intent(IntentKind.PREVIOUS)))
    assert isinstance(actions[0], Stop)
    assert [a.path for a in actions if isinstance(a, Play)] == ["1"]


def test_pages_of_more_than_eight_notices(loaded_store, corpus_notices):
    from dataclasses import replace

    from content.menu import Menu

    many = [replace(n, id=100 + i, spoken_title=f"第{i}号测试通知") for i, n in enumerate(corpus_notices * 2)]
    menu = Menu(many)
    state, actions = menu.start()
    assert "按8，第7号测试通知" in said(actions) and "第8号测试通知" not in said(actions)
    assert "听下一页，请按井号键" in said(actions)
    state, actions = run_script(menu, ["#"], state)[0], run_script(menu, ["#"], state)[1][-1][1]
    assert state.page == 1
    assert "按1，第8号测试通知" in said(actions)
    assert "回到第一页" in said(actions)
