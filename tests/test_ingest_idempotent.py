"""Re-ingesting adds nothing; a changed notice is updated in place, keeping its id."""

from conftest import FIXTURES

from content.ingest import ingest


def test_reingest_adds_nothing(store, corpus_path):
    first = ingest(store, [corpus_path, FIXTURES])
    assert (first.save.added, first.save.updated) == (10, 0)
    before = [n.to_json() for n in store.latest()]
    again = ingest(store, [corpus_path, FIXTURES])
    assert (again.save.added, again.save.updated, again.save.unchanged) == (0, 0, 10)
    assert [n.to_json() for n in store.latest()] == before


def test_changed_notice_is_updated_in_place(store, tmp_path):
    source = tmp_path / "opinion.txt"
    original = (FIXTURES / "notice_plain_opinion.txt").read_text("utf-8")
    source.write_text(original, "utf-8")
    ingest(store, [source])
    (notice,) = store.latest()

    source.write_text(original.replace("提前储备燃煤", "提前储备燃煤和天然气"), "utf-8")
    report = ingest(store, [source])
    assert (report.save.added, report.save.updated) == (0, 1)
    (updated,) = store.latest()
    assert updated.id == notice.id
    assert updated.sections[1].children[0].text == "各地区要提前储备燃煤和天然气。"
    assert store.search("天然气")[0].notice.id == notice.id
