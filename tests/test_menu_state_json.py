"""The menu state is a small value that survives a JSON round trip (stored per call)."""

import json

from conftest import run_script

from content.menu import Event, MenuState


def test_round_trip_at_every_step(menu):
    state, _ = menu.start()
    for key in ["4", "3", "1", "done", "#", "0", "*", "*", "9", "done", "#", "*", "*"]:
        event = Event.finished() if key == "done" else Event.press(key)
        state, actions = menu.step(state, event)
        text = state.to_json()
        assert len(text) < 400
        again = MenuState.from_json(text)
        assert again == state
        # the restored state behaves exactly like the original
        assert menu.step(again, Event.press("0")) == menu.step(state, Event.press("0"))
    assert json.loads(state.to_json())["mode"] == "top"


def test_stale_state_restarts_safely(menu):
    state, _ = run_script(menu, ["4", "3"])
    gone = MenuState.from_json(state.to_json().replace(f'"notice_id": {state.notice_id}', '"notice_id": 9999'))
    assert not menu.is_valid(gone)
    state, actions = menu.step(gone, Event.press("1"))
    assert state.mode.value == "top"


def test_turns_worked_out_once_are_handed_out_as_fresh_lists(menu):
    """The menu keeps each (state, event)'s turn: what a front end does to the actions it got
    does not change what the next call gets."""
    state, _ = menu.start()
    first = menu.step(state, Event.press("1"))
    first[1].clear()
    again = menu.step(state, Event.press("1"))
    assert again[1] and again[0] == first[0]


def test_a_forged_state_with_a_long_path_is_never_kept(menu):
    """Caches of states are bounded in number: a kiosk page's forged state with a megabyte of path
    is answered but held by none of them."""
    from content import menu_state

    forged_text = MenuState(path="1." * 500_000).to_json()
    forged = MenuState.from_json(forged_text)
    state, actions = menu.step(forged, Event.press("1"))
    assert actions and len(state.path) < 64  # answered; what follows is the menu's own state
    assert forged_text not in menu_state._STATE_OF and forged not in menu_state._JSON_OF
    assert all(key[0] != forged for key in menu._turns) and forged not in menu._choices
