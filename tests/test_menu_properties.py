"""Thousands of random conversations: the menu never fails and never strands a listener."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from content.menu import End, Event, Forget, Intent, IntentKind, Listen, Menu, Mode, Play, Resume, Say, Stop

KEYS = list("0123456789*#") + ["", "x"]
INTENTS = [Intent(k) for k in IntentKind if k is not IntentKind.CHOOSE] + [Intent(IntentKind.CHOOSE, n) for n in range(0, 12)]
EVENTS = st.one_of(
    st.sampled_from(KEYS).map(Event.press),
    st.sampled_from(INTENTS).map(Event.said),
    st.just(Event.timeout()),
    st.just(Event.finished()),
    st.just(Event.unclear()),
    st.sampled_from([Intent(IntentKind.CHOOSE, n) for n in range(0, 12)]).map(Event.check),
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(EVENTS, min_size=1, max_size=30), remembered=st.booleans(), pace=st.integers(-3, 3))
def test_invariants(loaded_store, events, remembered, pace):
    menu = Menu(loaded_store.latest())
    last = menu.notices[-1]  # a remembered caller (or a forged memory: pace out of range) starts too
    state, actions = menu.start(resume=Resume(last.id, len(menu.parts(last)) - 1, 0) if remembered else None, pace=pace)
    for event in events:
        was_playing = state.playing
        state, actions = menu.step(state, event)
        # always a state the front ends can render, and it survives storage
        assert menu.is_valid(state)
        assert type(state).from_json(state.to_json()) == state
        # every turn ends by listening, or by ending the call
        assert isinstance(actions[-1], (Listen, End))
        assert all(isinstance(a, (Say, Play, Listen, Stop, End, Forget)) for a in actions)
        is_cancel = event.key == "*" or (event.intent is not None and event.intent.kind is IntentKind.CANCEL)
        if is_cancel and was_playing and state.mode is not Mode.ENDED:
            assert actions[0] == Stop()
    # the listener can always get back to the top menu
    for _ in range(6):
        if state.mode is Mode.TOP:
            break
        state, _ = menu.step(state, Event.press("*"))
    assert state.mode is Mode.TOP
