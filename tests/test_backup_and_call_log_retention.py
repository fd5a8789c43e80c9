"""`tingwen backup` takes a consistent copy of both databases while calls are being written,
with the caller salt and settings; `restore-backup` checks it and puts it back, keeping what it
replaces. The call log keeps TINGWEN_CALL_LOG_DAYS days, and `calls` counts days in the hall's
time zone."""

import json
import sqlite3
import threading
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, PhoneCall, phone_app

from ivr.callstore import CallStore
from server import cli


def run(data_dir, *args, env=None, input=None):
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], env=env or {}, input=input)
    return result


def _count(db_path, table):
    with sqlite3.connect(db_path) as db:
        return db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_a_backup_while_calls_come_in_is_consistent_and_restores(tmp_path):
    data = tmp_path / "data"
    app = phone_app(data)
    (data / "tingwen.toml").write_text('speech_rate = "130"\n')
    (data / "pronunciations.txt").write_text("银行 yin2 hang2\n")  # as built in: pypinyin's dictionary is per process
    stop = threading.Event()

    def calls():
        n = 0
        while not stop.is_set():
            PhoneCall(app, sid=f"CA{n:032d}").start().press("1").hang_up()
            n += 1

    busy = threading.Thread(target=calls)
    busy.start()
    try:
        for k in range(3):
            result = run(data, "backup", str(tmp_path / f"backup{k}"))
            assert result.exit_code == 0, result.output
    finally:
        stop.set()
        busy.join()
    backup = tmp_path / "backup2"
    manifest = json.loads((backup / "backup.json").read_text())
    assert set(manifest["files"]) == {"tingwen.sqlite3", "calls.sqlite3", "staff.sqlite3", "caller-salt", "tingwen.toml", "pronunciations.txt"}
    for name in ("tingwen.sqlite3", "calls.sqlite3"):
        with sqlite3.connect(backup / name) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    with sqlite3.connect(backup / "calls.sqlite3") as db:  # every call's events are whole: begun and saved together
        orphans = db.execute("SELECT count(*) FROM call_events WHERE sid NOT IN (SELECT sid FROM calls)").fetchone()[0]
    assert orphans == 0
    assert (backup / "caller-salt").read_bytes() == (data / "caller-salt").read_bytes()
    backed_calls = _count(backup / "calls.sqlite3", "calls")

    # the data folder is lost or damaged; stop, restore, and the service has it back
    (data / "tingwen.sqlite3").write_bytes(b"damaged")
    result = run(data, "restore-backup", str(backup), input="y\n")
    assert result.exit_code == 0, result.output
    assert _count(data / "calls.sqlite3", "calls") == backed_calls
    kept = [p for p in data.iterdir() if p.name.startswith("before-restore-")]
    assert kept and (kept[0] / "tingwen.sqlite3").read_bytes() == b"damaged"
    listed = run(data, "notices")
    assert listed.exit_code == 0 and "森林草原防灭火" in listed.output


def test_a_backup_never_overwrites_and_a_damaged_one_is_refused(tmp_path):
    data = tmp_path / "data"
    assert run(data, "ingest", str(FIXTURES / "notice_plain_opinion.txt")).exit_code == 0
    assert run(data, "backup", str(tmp_path / "b")).exit_code == 0
    again = run(data, "backup", str(tmp_path / "b"))
    assert again.exit_code == 1 and "already exists" in again.output
    db = tmp_path / "b" / "tingwen.sqlite3"
    db.write_bytes(db.read_bytes()[:-100] + b"x" * 100)
    before = (data / "tingwen.sqlite3").read_bytes()
    refused = run(data, "restore-backup", str(tmp_path / "b"), "--yes")
    assert refused.exit_code == 1 and "tingwen.sqlite3" in refused.output and "damaged" in refused.output
    assert (data / "tingwen.sqlite3").read_bytes() == before  # nothing was touched
    assert not list(tmp_path.glob(".b.partial-*"))
    not_a_backup = run(data, "restore-backup", str(FIXTURES), "--yes")
    assert not_a_backup.exit_code == 1 and "not a tingwen backup" in not_a_backup.output


def test_old_calls_are_purged_after_the_retention_days(tmp_path):
    app = phone_app(tmp_path / "data", call_log_days=30)
    settings = app.config["TINGWEN_IVR"]
    store = CallStore.open(settings)
    old = (datetime.now(UTC) - timedelta(days=40)).isoformat(timespec="milliseconds")
    for sid in ("CAold0000000000000000000000000000", "CAnew0000000000000000000000000000"):
        PhoneCall(app, sid=sid).start().press("1").hang_up()
    store.db.execute("UPDATE calls SET started_at = ? WHERE sid = 'CAold0000000000000000000000000000'", [old])
    store.db.execute("UPDATE call_events SET at = ? WHERE sid = 'CAold0000000000000000000000000000'", [old])
    store.db.conn.commit()
    import ivr.callstore

    ivr.callstore._last_purge = None  # as in a process that has not purged this hour
    PhoneCall(app, sid="CAnext000000000000000000000000000").start()  # a call begins: the log is trimmed
    assert store.purge(settings.call_log_days) == 0  # nothing older is left
    sids = [r[0] for r in store.db.execute("SELECT DISTINCT sid FROM call_events")]
    assert sorted(sids) == ["CAnew0000000000000000000000000000", "CAnext000000000000000000000000000"]
    assert "CAold0000000000000000000000000000" not in [r[0] for r in store.db.execute("SELECT sid FROM calls")]
    store.close()


def test_calls_are_counted_by_the_halls_day(tmp_path):
    data = tmp_path / "data"
    app = phone_app(data)
    PhoneCall(app, sid="CAearly000000000000000000000000000").start().hang_up()
    store = CallStore.open(app.config["TINGWEN_IVR"])
    store.db.execute("UPDATE calls SET started_at = '2026-03-01T23:30:00.000+00:00'")  # 07:30 on 2 March in Beijing
    store.db.conn.commit()
    store.close()
    shanghai = json.loads(run(data, "calls", "--json").output)
    assert shanghai["calls_per_day"] == [{"day": "2026-03-02", "calls": 1}]
    utc = json.loads(run(data, "calls", "--json", env={"TINGWEN_TIMEZONE": "UTC"}).output)
    assert utc["calls_per_day"] == [{"day": "2026-03-01", "calls": 1}]
    wrong = run(data, "calls", env={"TINGWEN_TIMEZONE": "Mars/Olympus"})
    assert wrong.exit_code == 2 and "not a time zone" in wrong.output


@pytest.mark.parametrize("days, ok", [("0", True), ("365", True), ("-1", False), ("forever", False)])
def test_the_retention_setting_is_checked(tmp_path, days, ok):
    result = run(tmp_path / "data", "calls", env={"TINGWEN_CALL_LOG_DAYS": days})
    assert (result.exit_code == 0) == ok, result.output
