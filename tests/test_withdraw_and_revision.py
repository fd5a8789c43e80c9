"""Withdrawing a notice takes it off the phone menu, the kiosk and search at once, without a
restart; the store's revision moves on with every write, even two in one second."""

import json

from click.testing import CliRunner
from conftest import PhoneCall, phone_app

from content.menu import menu_for
from content.store import NoticeStore
from server import cli


def test_revision_changes_on_every_write_even_within_a_second(loaded_store):
    notice = loaded_store.latest()[0]
    first = loaded_store.revision()
    loaded_store.set_withdrawn(notice.id, True)
    second = loaded_store.revision()
    loaded_store.set_withdrawn(notice.id, False)
    third = loaded_store.revision()
    assert len({first, second, third}) == 3
    assert len(menu_for(loaded_store).notices) == 7  # the menu cache follows the revision


def test_withdraw_and_restore_are_seen_by_a_running_app(tmp_path):
    app = phone_app(tmp_path / "data")
    client = app.test_client()
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        target = store.latest()[0]
    assert client.get(f"/notice/{target.id}").status_code == 200
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path / "data")]

    withdrawn = runner.invoke(cli, [*base, "withdraw", str(target.id)])
    assert withdrawn.exit_code == 0 and "withdrawn" in withdrawn.output
    assert client.get(f"/notice/{target.id}").status_code == 404
    assert client.get(f"/kiosk/speech/intro/{target.id}").status_code == 404
    assert target.spoken_title not in client.get("/").get_data(as_text=True)
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        assert target.id not in {hit.notice.id for hit in store.search(target.spoken_title[2:8])}
        assert len(menu_for(store).notices) == 6
    call = PhoneCall(app).start()
    assert call.last.status_code == 200
    table = runner.invoke(cli, [*base, "notices"]).output
    assert f"{target.spoken_title}（已撤回）" in table
    listed = {n["id"]: n for n in json.loads(runner.invoke(cli, [*base, "notices", "--json"]).output)}
    assert listed[target.id]["withdrawn"] is True

    restored = runner.invoke(cli, [*base, "restore", str(target.id)])
    assert restored.exit_code == 0 and "restored" in restored.output
    assert client.get(f"/notice/{target.id}").status_code == 200
    with NoticeStore(app.config["TINGWEN_DB"]) as store:
        assert len(menu_for(store).notices) == 7


def test_withdrawing_an_unknown_notice_is_refused_by_number(tmp_path):
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "data"), "withdraw", "999"])
    assert result.exit_code == 1 and "999" in result.output


def test_the_menus_offer_as_many_notices_as_the_setting_says(tmp_path):
    app = phone_app(tmp_path / "data", menu_notices=3)
    with app.test_request_context():
        from ivr.views import phone_menu

        with NoticeStore(app.config["TINGWEN_DB"]) as store:
            assert len(phone_menu(store).notices) == 3
