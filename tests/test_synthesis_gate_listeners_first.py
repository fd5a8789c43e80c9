"""The synthesis gate: a waiting listener goes before prerendering, the first phrase of a turn
before the rest, and background work never takes the last place."""

import threading
import time

import pytest

from speech.engine import Priority, SynthesisGate, background_work, synthesis_priority


def _run_in_order(gate: SynthesisGate, holders: int, waiters: list[tuple[str, Priority]]) -> list[str]:
    """Hold `holders` places, queue the waiters one after another, then free the places: the
    order in which the waiters got in."""
    order: list[str] = []
    release = threading.Event()
    held = threading.Barrier(holders + 1)

    def hold():
        with gate.held():
            held.wait(5)
            release.wait(5)

    def work(name, priority):
        with synthesis_priority(priority), gate.held():
            order.append(name)

    threads = [threading.Thread(target=hold) for _ in range(holders)]
    for thread in threads:
        thread.start()
    held.wait(5)
    for name, priority in waiters:
        thread = threading.Thread(target=work, args=(name, priority))
        thread.start()
        threads.append(thread)
        time.sleep(0.03)  # arrival order is part of the rule
    release.set()
    for thread in threads:
        thread.join(5)
    return order


def test_a_listener_goes_before_background_work():
    waiters = [(f"prerender{i}", Priority.BACKGROUND) for i in range(3)]
    waiters.insert(1, ("caller", Priority.LISTENER))  # the first prerender is in (its own place) before the caller comes
    order = _run_in_order(SynthesisGate(1), 1, waiters)
    assert order[:2] == ["prerender0", "caller"] and sorted(order[2:]) == ["prerender1", "prerender2"]


def test_a_listener_never_waits_for_background_work():
    gate = SynthesisGate(1)
    inside = threading.Event()
    release = threading.Event()

    def background():
        with background_work(), gate.held():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=background)
    worker.start()
    inside.wait(5)
    began = time.perf_counter()
    with gate.held():  # a listener: in at once, beside the prerender
        waited = time.perf_counter() - began
    release.set()
    worker.join(5)
    assert waited < 0.05


def test_the_first_phrase_of_a_turn_goes_before_the_rest_and_arrival_order_is_kept():
    waiters = [("rest-a", Priority.LISTENER), ("prerender", Priority.BACKGROUND), ("rest-b", Priority.LISTENER),
               ("first-1", Priority.FIRST_SOUND), ("first-2", Priority.FIRST_SOUND)]  # fmt: skip
    order = _run_in_order(SynthesisGate(1), 1, waiters)
    assert order == ["first-1", "first-2", "rest-a", "rest-b", "prerender"]


def test_background_work_holds_at_most_one_place_fewer_than_listeners():
    gate = SynthesisGate(2)
    inside = threading.Event()
    release = threading.Event()
    entered = []

    def background(name):
        with background_work(), gate.held():
            entered.append(name)
            inside.set()
            release.wait(5)

    first = threading.Thread(target=background, args=("one",))
    first.start()
    inside.wait(5)
    second = threading.Thread(target=background, args=("two",))
    second.start()
    time.sleep(0.1)
    assert entered == ["one"]  # one place for background on two cores
    release.set()
    for thread in (first, second):
        thread.join(5)
    assert entered == ["one", "two"]


@pytest.mark.parametrize("places", [1, 2])
def test_background_alone_is_not_held_back(places):
    gate = SynthesisGate(places)
    with background_work():
        for _ in range(3):
            with gate.held():
                pass


def test_every_place_is_used_by_listeners_at_once():
    gate = SynthesisGate(2)
    together = threading.Barrier(2, timeout=5)

    def listener():
        with gate.held():
            together.wait()  # breaks (and raises) unless both are inside at the same time

    threads = [threading.Thread(target=listener) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert not together.broken


def test_a_first_sound_has_a_place_of_its_own_while_listeners_hold_the_rest():
    gate = SynthesisGate(2)
    release = threading.Event()
    inside = threading.Barrier(3, timeout=5)
    got_in: list[str] = []

    def hold():
        with gate.held():
            inside.wait()
            release.wait(5)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for thread in holders:
        thread.start()
    inside.wait()  # both places are held by listeners' later phrases

    def wait_as(name, priority):
        with synthesis_priority(priority), gate.held():
            got_in.append(name)

    later = threading.Thread(target=wait_as, args=("later phrase", Priority.LISTENER))
    later.start()
    time.sleep(0.05)
    first = threading.Thread(target=wait_as, args=("first sound", Priority.FIRST_SOUND))
    first.start()
    first.join(2)
    assert got_in == ["first sound"]  # in at once, while the later phrase still waits
    release.set()
    for thread in [*holders, later]:
        thread.join(5)
    assert got_in == ["first sound", "later phrase"]


def test_prerendering_runs_at_the_lowest_cpu_priority(tmp_path):
    import os

    from speech.cache import AudioCache
    from speech.engine import VoiceSettings
    from speech.prerender import BackgroundPrerender
    from speech.speaker import Speaker

    seen = []

    def texts():
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        return []

    job = BackgroundPrerender(Speaker(AudioCache(tmp_path / "audio"), VoiceSettings()), texts, lambda: 1).start()
    assert job.done.wait(30)
    job.stop()
    assert seen == [19] and os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < 19  # only that thread
