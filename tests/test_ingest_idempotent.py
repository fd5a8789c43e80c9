"""Re-ingesting adds nothing; a changed notice is updated in place, keeping its id."""

from conftest import FIXTURES

from content.ingest import ingest


def test_reingest_adds_nothing(store, corpus_path):
    first = ingest(store, [corpus_path, FIXTURES])
    assert (first.save.added, first.save.updated) == (23, 0)
    before = [n.to_json() for n in store.latest()]
    again = ingest(store, [corpus_path, FIXTURES])
    assert (again.save.added, again.save.updated, again.save.unchanged) == (0, 0, 23)
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


def test_the_same_text_from_another_path_changes_nothing(store, corpus_path, tmp_path):
    """The bundled sample is loaded at start-up; ingesting the same file from the repository (or
    a copy anywhere) must not report it as updated."""
    ingest(store, [corpus_path])
    before = store.revision()
    copy = tmp_path / "elsewhere" / "same-notices.txt"
    copy.parent.mkdir()
    copy.write_bytes(corpus_path.read_bytes())
    report = ingest(store, [copy])
    assert (report.save.added, report.save.updated, report.save.unchanged) == (0, 0, 7)
    assert store.revision() == before
