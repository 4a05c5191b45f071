"""The benchmark runner keeps working: its smoke mode on a tiny corpus (figures not judged)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import hugo
from benchmarks.corpus import SECTIONS, article, write_corpus

from .conftest import need

pytestmark = [pytest.mark.e2e, pytest.mark.bench]


def test_corpus_articles_are_about_3_kb_and_exercise_escaping(tmp_path: Path) -> None:
    import random

    from feedsvc.articles.text_format import parse_article

    text = article(random.Random(1), 3)
    assert 2800 <= len(text.encode("utf-8")) <= 4500
    write_corpus(tmp_path / "c", 12)
    parsed = [
        parse_article(p.read_bytes(), source=str(p)) for p in sorted((tmp_path / "c").iterdir())
    ]
    assert {a.section for a in parsed} == set(SECTIONS)
    body = " ".join(p for a in parsed for p in a.paragraphs)
    for needle in ("&", "<", ">", "東京", "Zürich"):
        assert needle in body


@pytest.mark.external
def test_smoke_run_writes_table_json_and_chart(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for program in ("wrk", "nginx", "curl"):
        need(program)
    from benchmarks.run import main

    out = tmp_path / "out"
    assert (
        main(
            [
                "--mode",
                "smoke",
                "--work",
                str(tmp_path / "work"),
                "--out",
                str(out),
                "--keep-page-cache",
            ]
        )
        == 0
    )
    data = json.loads((out / "results.json").read_text())
    servers = data["http"]["servers"]
    scenarios = {"feed", "feed gzip", "304", "304 gzip", "article", "front"}
    assert set(servers) == scenarios
    assert set(servers["feed"]) >= {"feedsvc", "feedsvc-nolog", "hello", "naive", "nginx"}
    for scenario in servers.values():
        # Every scenario against nginx serving the same bytes, with logging on both and off.
        assert set(scenario) >= {"feedsvc", "feedsvc-nolog", "nginx", "nginx-nolog", "ceiling"}
        for name, figures in scenario.items():
            if isinstance(figures, dict):
                assert figures["errors"] == 0
                assert figures["rps"] > 0
                if name.startswith(("feedsvc", "nginx", "ceiling")):
                    assert figures["cpu_us"] > 0  # the server's CPU time per request
    ratios = data["http"]["ratios"]
    assert set(ratios) == scenarios
    assert ratios["feed"]["p99"] > 0
    for scenario, row in ratios.items():
        assert row["log"] > 0
        assert row["nolog"] > 0
        if row["log"] < 0.9:  # a missed target comes with its profile
            text = data["http"]["profiles"][scenario]["text"]
            assert text.startswith(f"profile: {scenario} ")
            assert text in (out / "results.md").read_text()
    assert {t["target"] for t in data["targets"]} >= {
        "warm feed / hello-world",
        "304 / hello-world",
        "feed gzip / nginx, both logging",
        "304 gzip / nginx, neither logging",
        "p99 of feed / nginx's",
    }
    assert data["memory"]["workers"] == 2
    bulk, edit = data["live"]["bulk"], data["live"]["edit"]
    assert bulk["files"] == 200
    assert bulk["complete"]
    assert bulk["articles"] == 200
    assert bulk["published_s"] >= bulk["moves_s"] >= 0
    assert bulk["max_poll_gap_s"] > 0
    assert edit["articles"] == 60
    assert edit["error"] is None
    assert edit["edits"] == edit["visible"] == 2
    assert edit["non_200"] == 0
    assert 0 < edit["median_s"] <= edit["max_s"]
    assert edit["settle_ms"] == 1000
    assert {t["target"] for t in data["targets"]} >= {
        "one edit visible, max of 2 (s, settle 1000 ms)",
        "200 files moved in, all published (s)",
    }
    publishing = data["publishing"]
    assert publishing["articles"] == 60
    assert [row["key"] for row in publishing["figures"]] == [
        "build_cold",
        "build_nochange",
        "build_new",
        "build_edit",
        "build_remove",
        "deploy_first",
        "deploy_nochange",
        "deploy_new",
        "watch",
    ]
    for row in publishing["figures"]:
        assert row["seconds"] is not None, row
        assert row["seconds"] > 0, row
        assert row["met"] in (True, False, None)
    assert publishing["steps"]["deploy_first"]["objects"] > 300
    # The builder's memory: its process tree's, sampled while it runs (Python alone is ~10 MiB).
    assert publishing["steps"]["build_cold"]["peak_mib"] > 20
    assert "0 URLs rendered (incremental build)" in publishing["steps"]["build_nochange"]["summary"]
    for key in ("build_new", "build_edit", "build_remove"):  # a change costs what it changes
        assert 0 < publishing["steps"][key]["rendered"] <= 60, key
    assert "sent 0 objects" in publishing["steps"]["deploy_nochange"]["summary"]
    assert publishing["steps"]["watch"]["exit_code"] == 0
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "| target | measured | bound | met |" in printed
    assert "| files moved in, all published | 200 |" in printed
    assert "| build again, no change |" in printed


@pytest.mark.bench
def test_hugo_builds_the_same_articles_and_the_comparison_reads_as_ratios(tmp_path: Path) -> None:
    need("hugo")
    figures = hugo.measure(tmp_path, 30)
    assert "error" not in figures, figures
    cold = figures["cold"]
    # A page per article, and the lists and feeds around them.
    assert cold["files"] > 30
    assert figures["one new"]["files"] > cold["files"]  # the new article has its page
    table = hugo.compare(figures, {"cold": cold["seconds"] * 2, "edit": cold["seconds"] / 20})
    assert "cold build" in table
    assert "2.00" in table  # twice Hugo's full build
    assert "met" in table
    assert "not measured" in table  # no figure for a new or removed article given
