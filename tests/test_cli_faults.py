"""The `tingwen` command under faults: a second writer waits for the first or says so in one line,
a damaged database and a missing espeak-ng are one clear line each, never a traceback; ids and
searches no store can hold are answered plainly. Run as the installed command, in processes."""

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import FIXTURES

TINGWEN = str(Path(sys.executable).with_name("tingwen"))


def tingwen(data_dir, *args, env=None, timeout=120):
    environment = {**os.environ, "TINGWEN_VOICE": "espeak", "TINGWEN_PRERENDER": "0", **(env or {})}
    return subprocess.run([TINGWEN, "--data-dir", str(data_dir), *args], capture_output=True, text=True, timeout=timeout, env=environment)


def _hold_write_lock(db_path, seconds, started):
    connection = sqlite3.connect(db_path)
    connection.execute("BEGIN IMMEDIATE")
    started.set()
    time.sleep(seconds)
    connection.rollback()
    connection.close()


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "data"
    done = tingwen(folder, "notices")  # creates the store
    assert done.returncode == 0, done.stderr
    return folder


def test_a_second_ingest_waits_for_the_first(data_dir):
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(data_dir / "tingwen.sqlite3", 3, started))
    holder.start()
    started.wait(5)
    begun = time.monotonic()
    done = tingwen(data_dir, "ingest", str(FIXTURES / "notice_plain_opinion.txt"))
    holder.join()
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - begun >= 2.5  # it waited for the other writer, then stored
    assert "1 added" in done.stdout


def test_an_ingest_that_waits_too_long_says_so_in_one_line(data_dir):
    started = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(data_dir / "tingwen.sqlite3", 6, started))
    holder.start()
    started.wait(5)
    done = tingwen(data_dir, "ingest", str(FIXTURES / "notice_plain_opinion.txt"), env={"TINGWEN_BUSY_SECONDS": "1"})
    holder.join()
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1 and "another process" in lines[0] and "try again" in lines[0]


def test_two_real_ingests_at_once_both_finish(data_dir, corpus_path):
    runs = [
        subprocess.Popen(
            [TINGWEN, "--data-dir", str(data_dir), "ingest", str(source), "--issuer", "内蒙古自治区人民政府"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "TINGWEN_VOICE": "espeak"},
        )
        for source in (FIXTURES / "real", corpus_path)
    ]  # fmt: skip
    results = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], results
    assert all("Traceback" not in err for _, err in results)
    listed = tingwen(data_dir, "notices", "--json")
    assert listed.returncode == 0 and listed.stdout.count('"spoken_title"') >= 7 + 13


@pytest.mark.parametrize("command", [["notices"], ["serve", "--port", "0"], ["show", "1"], ["ingest", str(FIXTURES / "notice_plain_opinion.txt")]])
def test_a_damaged_database_is_one_clear_line(tmp_path, command):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "tingwen.sqlite3").write_bytes(b"this is not a database, it was damaged " * 200)
    done = tingwen(folder, *command)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "tingwen.sqlite3" in done.stderr and "cannot be read" in done.stderr and "restore" in done.stderr


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["say", "您好", "--out", "hello.wav"]])
def test_without_espeak_ng_the_espeak_voice_says_what_to_install(tmp_path, command):
    done = tingwen(tmp_path / "data", *command, env={"PATH": str(tmp_path / "empty-bin")})
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "espeak-ng is not installed" in done.stderr and "apt-get install espeak-ng" in done.stderr


def test_ids_and_searches_no_store_can_hold_are_answered_plainly(data_dir):
    done = tingwen(data_dir, "show", "99999999999999999999999")
    assert done.returncode == 1 and "no notice with id" in done.stderr and "Traceback" not in done.stderr
    done = tingwen(data_dir, "withdraw", "99999999999999999999999")
    assert done.returncode == 1 and "no notice with id" in done.stderr
    done = tingwen(data_dir, "search", " ".join(f"词{i}" for i in range(400)))
    assert done.returncode == 0 and "Traceback" not in done.stderr
