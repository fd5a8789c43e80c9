"""The `tingwen` command line: ingest, notices (table and JSON), show, search, data folder."""

import json

import pytest
from click.testing import CliRunner
from conftest import FIXTURES

from server import cli

NOTICE_KEYS = {
    "id", "title", "spoken_title", "doc_number", "issuer", "addressee",
    "signed_date", "published_date", "attachments", "source", "sections",
    "body", "annotation", "gist", "withdrawn",
}
SECTION_KEYS = {"path", "ordinal", "marker", "heading", "text", "children"}


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(cli, ["--data-dir", str(tmp_path / "data"), *args])
        return result

    return invoke


def _all_sections(sections):
    for section in sections:
        yield section
        yield from _all_sections(section["children"])


def test_ingest_then_notices_json(run, corpus_path):
    result = run("ingest", str(corpus_path), str(FIXTURES), "--issuer", "内蒙古自治区人民政府")
    assert result.exit_code == 0, result.output
    assert "23 added" in result.output  # the corpus, three fixtures, thirteen real notices

    listed = json.loads(run("notices", "--json").output)
    assert len(listed) == 23
    for notice in listed:
        assert set(notice) == NOTICE_KEYS
        for section in _all_sections(notice["sections"]):
            assert set(section) == SECTION_KEYS
    days = [n["published_date"] or n["signed_date"] for n in listed]
    assert days == sorted(days, reverse=True)
    first_corpus = next(n for n in listed if n["spoken_title"] == "关于临河区土地征收成片开发调整方案的批复")
    assert first_corpus["title"] is None and first_corpus["doc_number"] is None
    assert first_corpus["published_date"] == "2025-04-09" and first_corpus["signed_date"] == "2025-03-17"
    assert first_corpus["body"].startswith("巴彦淖尔市人民政府") or first_corpus["body"].startswith("你市")
    assert first_corpus["annotation"] == "(此件公开发布)" and first_corpus["withdrawn"] is False
    assert first_corpus["gist"].startswith("原则同意《巴彦淖尔市临河区土地征收成片开发调整方案》")
    order = next(n for n in listed if n["spoken_title"] == "森林草原防灭火命令")
    assert [s["marker"] for s in order["sections"]][:3] == ["一、", "二、", "三、"]


def test_notices_table_show_and_search(run, corpus_path):
    run("ingest", str(corpus_path))
    table = run("notices").output
    assert "森林草原防灭火命令" in table and table.splitlines()[0].split()[0] == "ID"

    listed = json.loads(run("notices", "--json").output)
    order_id = next(n["id"] for n in listed if n["spoken_title"] == "森林草原防灭火命令")
    outline = run("show", str(order_id)).output
    assert outline.startswith(f"[{order_id}] 森林草原防灭火命令")
    assert "\n3 三、强化火源治理" in outline
    assert "\n  3.1 (一)" in outline

    hits = json.loads(run("search", "就业", "--json").output)
    assert hits[0]["spoken_title"] == "关于印发就业促进行动实施方案的通知"
    assert "no notice mentions" in run("search", "量子计算").output


def test_show_unknown_id_is_a_clear_error(run):
    result = run("show", "999")
    assert result.exit_code == 1
    assert "no notice with id 999" in result.output


def test_broken_source_exits_nonzero_with_location(run, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("正文。\n2025-02-30\n", "utf-8")
    result = run("ingest", str(bad))
    assert result.exit_code == 1
    assert f"{bad}, line 2" in result.output and "nothing was stored" in result.output
    assert json.loads(run("notices", "--json").output) == []


def test_data_dir_from_environment(tmp_path, corpus_path, monkeypatch):
    monkeypatch.setenv("TINGWEN_DATA_DIR", str(tmp_path / "from-env"))
    result = CliRunner().invoke(cli, ["ingest", str(corpus_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-env" / "tingwen.sqlite3").exists()
