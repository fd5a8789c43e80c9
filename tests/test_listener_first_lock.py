"""Synthesis for a waiting listener goes before prerendering on the engine's lock."""

import threading
import time

from speech.engine import ListenerFirstLock, background_work


def test_a_listener_goes_before_background_work():
    lock = ListenerFirstLock()
    order = []
    release = threading.Event()

    def hold():
        with lock.held():
            release.wait(5)

    def work(name, background):
        if background:
            with background_work(), lock.held():
                order.append(name)
        else:
            with lock.held():
                order.append(name)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    threads = [threading.Thread(target=work, args=(f"prerender{i}", True)) for i in range(3)]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    caller = threading.Thread(target=work, args=("caller", False))
    caller.start()
    time.sleep(0.05)
    release.set()
    for thread in [holder, caller, *threads]:
        thread.join(5)
    assert order[0] == "caller" and sorted(order[1:]) == ["prerender0", "prerender1", "prerender2"]


def test_background_alone_is_not_held_back():
    lock = ListenerFirstLock()
    with background_work():
        with lock.held():
            pass
        with lock.held():
            pass
