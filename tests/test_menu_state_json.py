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
