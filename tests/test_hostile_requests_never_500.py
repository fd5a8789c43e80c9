"""Forged, garbled and oversized requests get a 4xx or a fresh menu, never a 500 (the app runs
with testing off, so an exception would be a 500 here as in production)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import PhoneCall, phone_app


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    built = phone_app(tmp_path_factory.mktemp("hostile") / "data")
    built.testing = False
    return built


def _turn(app, state, event):
    return app.test_client().post("/kiosk/menu", json={"state": state, "event": event})


def _state(**fields):
    base = {
        "mode": "top", "page": 0, "notice_id": None, "path": "", "cursor": 0, "segment": -1, "sentence": 0,
        "stop_at": 0, "greeted": True, "heard": False, "coached": False, "misses": 0, "confirming": 0, "playing": False,
        "subscribed": False,
    }
    return json.dumps(base | fields)


@pytest.mark.parametrize(
    "state",
    [
        _state(mode="read_all", cursor=0, segment=50),
        _state(mode="read_all", cursor=0, segment=0, sentence=999),
        _state(mode="top", page="0"),
        _state(mode="top", page=True),
        _state(mode="top", page=10**30),
        _state(mode="reading", notice_id=1, cursor=0, stop_at=0, sentence=10**6),
        _state(mode="reading", notice_id=1, cursor=-1),
        _state(mode="notice", notice_id=1, path="²"),
        _state(mode="notice", notice_id=1, path="1." * 5000),
        _state(mode="top", misses=-5),
        _state(mode="top", confirming=7),
        _state(mode="nonsense"),
        json.dumps({"mode": "top"}),
        json.dumps({"mode": "top", "page": 0, "extra": 1}),
        json.dumps([1, 2, 3]),
        "not json",
        "[" * 5000 + "]" * 5000,
    ],
)
@pytest.mark.parametrize("event", [{"kind": "timeout"}, {"kind": "finished"}, {"kind": "key", "key": "1"}, {"kind": "key", "key": "#"}])
def test_a_forged_menu_state_starts_the_menu_again(app, state, event):
    answer = _turn(app, state, event)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert answer.get_json()["actions"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
state_fields = st.fixed_dictionaries(
    {},
    optional={
        name: json_values | st.integers(-3, 60)
        for name in ("mode", "page", "notice_id", "path", "cursor", "segment", "sentence", "stop_at", "greeted", "misses", "confirming", "playing")
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    fields=state_fields,
    mode=st.sampled_from(["top", "notice", "reading", "part_end", "read_all", "ended"]),
    event=st.sampled_from([{"kind": "timeout"}, {"kind": "finished"}, {"kind": "unclear"}, {"kind": "key", "key": "9"}, {"kind": "key", "key": "*"}, {"kind": "check", "number": 4}]),
)
def test_fuzzed_states_never_break_the_menu(app, fields, mode, event):
    state = json.loads(_state(mode=mode)) | fields
    answer = _turn(app, json.dumps(state, allow_nan=True), event)
    assert answer.status_code in (200, 400), answer.get_data(as_text=True)[:300]


@pytest.mark.parametrize(
    "body, status",
    [
        ("[" * 100_000 + "]" * 100_000, 400),
        ('{"event": {"kind": "intent", "intent": "choose", "number": 1e999}, "state": "{}"}', 400),
        ('{"event": {"kind": "intent", "intent": "choose", "number": 10000000000000000000000}}', 400),
        ('{"event": {"kind": "intent", "intent": "choose", "number": true}}', 400),
        ('{"event": {"kind": ["key"]}}', 400),
        ('{"event": {"kind": "key", "key": 5}}', 200),
        ('"just a string"', 400),
        ('{"a": "' + "x" * 10_000_000 + '"}', 413),
    ],
)
def test_garbled_or_huge_kiosk_bodies_are_refused(app, body, status):
    answer = app.test_client().post("/kiosk/menu", data=body, content_type="application/json")
    assert answer.status_code == status


def test_a_huge_webhook_body_is_refused(app):
    call = PhoneCall(app)
    answer = call.post("/ivr/gather", {"CallSid": call.sid, "Digits": "1", "Junk": "x" * 1_000_000})
    assert answer.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/notice/999999999999999999999999",
        "/notice/9223372036854775808",
        "/notice/0",
        "/kiosk/speech/card/999999999999999999999999",
        "/kiosk/speech/full/99999999999999999999",
        "/kiosk/speech/section/999999999999999999999/1",
        "/kiosk/speech/section/1/99999999999999999999999",
        "/kiosk/speech/section/1/²",
    ],
)
def test_ids_beyond_any_notice_are_404(app, path):
    assert app.test_client().get(path).status_code == 404


def test_a_search_of_hundreds_of_words_answers(loaded_store):
    words = " ".join(f"词{i}" for i in range(400))
    assert loaded_store.search(words) == []
    once = loaded_store.search("就业")
    assert once and loaded_store.search(" ".join(["就业"] * 400)) == once  # repeated words count once
    assert loaded_store.search(" ".join(f"词语{i}" for i in range(400))) == []  # the trigram path too
