"""/healthz answers 200 with what it checked, or 503 naming what is wrong, always as JSON."""

import os

from conftest import phone_app


def test_a_healthy_service_says_so(tmp_path):
    answer = phone_app(tmp_path / "data").test_client().get("/healthz")
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["notices"] == 7 and body["audio_cache"] == "writable" and body["voice"]


def test_an_unwritable_audio_cache_is_named(tmp_path):
    app = phone_app(tmp_path / "data")
    folder = app.extensions["tingwen.speaker"].cache.folder
    os.chmod(folder, 0o500)
    try:
        if os.access(folder, os.W_OK):  # root ignores permissions: make the folder a file instead
            os.chmod(folder, 0o700)
            backup = folder.with_name("audio-moved")
            folder.rename(backup)
            folder.write_text("not a folder")
        answer = app.test_client().get("/healthz")
    finally:
        if folder.is_file():
            folder.unlink()
        else:
            os.chmod(folder, 0o700)
    assert answer.status_code == 503
    assert any("audio cache" in p and str(folder) in p for p in answer.get_json()["problems"])


def test_a_broken_store_is_named(tmp_path):
    app = phone_app(tmp_path / "data")
    db = app.config["TINGWEN_DB"]
    for path in db.parent.glob(db.name + "*"):
        path.unlink()
    db.mkdir()  # a folder where the database should be
    answer = app.test_client().get("/healthz")
    assert answer.status_code == 503
    assert any(p.startswith(f"store {db}") for p in answer.get_json()["problems"])
