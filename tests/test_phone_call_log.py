"""Calls survive a restart, end politely at the limits, and leave a log staff can summarise."""

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from conftest import PhoneCall, audio_urls, phone_app

from ivr.callstore import CallStore, load_salt
from server import cli


def _calls(app):
    settings = app.config["TINGWEN_IVR"]
    return CallStore.open(settings)


def test_a_restart_mid_call_continues_the_call(tmp_path):
    first = phone_app(tmp_path / "data")
    call = PhoneCall(first).start().press("4").press("3")
    in_menu = call.plays

    restarted = phone_app(tmp_path / "data")  # a new process: nothing shared but the data folder
    again = PhoneCall(restarted, sid=call.sid)
    again.twiml = call.twiml
    again.press("0")  # repeat: the same section menu as before the restart
    assert again.plays and in_menu[-len(again.plays) :] == again.plays
    again.press("1")
    assert again.twiml.xpath("string(//Gather/@timeout)") == "1"  # reading (三、(一))


def test_call_too_long_ends_with_goodbye(tmp_path):
    app = phone_app(tmp_path / "data", max_call_minutes=1)
    call = PhoneCall(app).start()
    store = _calls(app)
    old = (datetime.now(UTC) - timedelta(minutes=2)).isoformat(timespec="milliseconds")
    store.db.execute("UPDATE calls SET started_at = ? WHERE sid = ?", [old, call.sid])
    store.db.conn.commit()
    call.press("4")
    assert call.hung_up
    assert call.plays == audio_urls(app, "感谢您的收听，再见。")
    assert ("limit", None, None) in _calls(app).events(call.sid)


def test_status_callback_closes_the_call(tmp_path):
    app = phone_app(tmp_path / "data")
    call = PhoneCall(app).start().press("4").press("2").press("*")
    assert call.hang_up(duration=75).status_code == 204
    store = _calls(app)
    row = store.db.execute("SELECT status, duration_s, ended_at, caller_hash FROM calls WHERE sid = ?", [call.sid]).fetchone()
    assert row[0] == "completed" and row[1] == 75 and row[2]
    assert row[3] and "13800000000" not in row[3] and len(row[3]) == 64  # salted hash, never the number
    kinds = [kind for kind, _, _ in store.events(call.sid)]
    assert kinds[0] == "start" and kinds[-1] == "end"
    assert kinds.count("key") == 3
    assert ("play", 4, "2") in store.events(call.sid)
    assert ("cancel", 4, "2") in store.events(call.sid)
    assert PhoneCall(app, sid="CAnever").hang_up().status_code == 404


def test_caller_hash_is_stable_and_salted(tmp_path):
    app = phone_app(tmp_path / "data")
    store = _calls(app)
    assert store.caller_hash("+8613800000000") == store.caller_hash("+8613800000000")
    other = CallStore(tmp_path / "other.sqlite3", load_salt(tmp_path / "other-salt"))
    assert other.caller_hash("+8613800000000") != store.caller_hash("+8613800000000")


def test_calls_summary_for_staff(tmp_path):
    app = phone_app(tmp_path / "data")
    for i, keys in enumerate([["4", "1", "*"], ["4", "2"], ["6", "1", "*"]]):
        call = PhoneCall(app, sid=f"CA{i:032d}").start()
        for key in keys:
            call.press(key)
        call.hang_up(duration=60 + 30 * i)
    runner = CliRunner()
    result = runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), "calls", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["calls"] == 3
    assert summary["average_duration_s"] == 90.0
    assert summary["calls_per_day"][0]["calls"] == 3
    assert summary["most_listened"][0] == {"notice_id": 4, "title": "森林草原防灭火命令", "calls": 2}
    assert {"notice_id": 4, "title": "森林草原防灭火命令", "path": "1", "count": 1} in summary["cancels"]
    table = runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), "calls"]).output
    assert "calls: 3, average duration: 90 s" in table and "森林草原防灭火命令" in table


def test_stale_calls_expire(tmp_path, monkeypatch):
    from ivr import callstore

    app = phone_app(tmp_path / "data")
    call = PhoneCall(app, sid="CAstale0000000000000000000000000").start()
    store = _calls(app)
    old = (datetime.now(UTC) - timedelta(hours=3)).isoformat(timespec="milliseconds")
    store.db.execute("UPDATE calls SET updated_at = ? WHERE sid = ?", [old, call.sid])
    store.db.conn.commit()
    monkeypatch.setattr(callstore, "_last_expiry", None)  # a call begun a minute later: expiry runs once a minute
    PhoneCall(app, sid="CAfresh0000000000000000000000000").start()
    status = _calls(app).db.execute("SELECT status, ended_at FROM calls WHERE sid = ?", [call.sid]).fetchone()
    assert status[0] == "expired" and status[1]
