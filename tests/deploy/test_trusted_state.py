"""A deploy trusts what this machine sent last time while the target's marker names that
deploy: nothing to send costs one small read, no listing. `--verify`, a missing record here,
or another machine's deploy since make it list the target and repair what differs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from feedsvc.deploy import deploy
from feedsvc.deploy import ledger as ledger_module
from feedsvc.deploy.ledger import folder_for, open_ledger
from feedsvc.deploy.state import MARKER_NAME, STATE_NAME, SentObject
from feedsvc.export import manifest
from feedsvc.export.names import DEPLOY_FILES
from tests.deploy.test_deploy import Proxy, Site, _client, bucket_objects


def listings(proxy: Proxy) -> list[str]:
    return [path for method, path in proxy.requests if method == "GET" and "list-type=2" in path]


def edit(site: Site, key: str) -> None:
    path = site.seeds / f"{key}.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA correction.", encoding="utf-8")
    site.build()


def wanted(site: Site) -> dict[str, str]:
    return {key: entry.md5 for key, entry in site.files().items()}


@pytest.mark.slow
def test_nothing_to_send_costs_one_small_read_and_no_listing(
    site: Site, proxy: Proxy, bucket: str
) -> None:
    first = site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    assert "(target listed)" in first.output  # no record here yet
    proxy.requests.clear()
    again = site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    assert "sent 0 objects (0 redirects), deleted 0" in again.output
    assert "(target listed)" not in again.output
    assert proxy.requests == [("GET", f"/{bucket}/{MARKER_NAME}")]
    # An edit: the changed objects, the marker before them, no listing.
    edit(site, "00044_story")
    proxy.requests.clear()
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    assert listings(proxy) == []
    puts = [path for method, path in proxy.requests if method == "PUT"]
    assert puts[0] == f"/{bucket}/{MARKER_NAME}"
    assert puts[-1] == f"/{bucket}/{STATE_NAME}"  # a manual deploy shares its state
    assert bucket_objects(proxy.url, bucket) == wanted(site)


@pytest.mark.slow
def test_verify_repairs_objects_missing_changed_or_extra(
    site: Site, proxy: Proxy, bucket: str
) -> None:
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    client = _client(proxy.url)
    client.delete_object(Bucket=bucket, Key="feeds.opml")
    client.put_object(Bucket=bucket, Key="feeds/atom.xml", Body=b"<feed>changed by hand</feed>")
    client.put_object(Bucket=bucket, Key="left/over.html", Body=b"not from the export")
    trusting = site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    assert "sent 0 objects (0 redirects), deleted 0" in trusting.output  # it cannot know
    proxy.requests.clear()
    repaired = site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url, "--verify")
    assert "sent 2 objects (0 redirects), deleted 1," in repaired.output
    assert "(target listed)" in repaired.output
    assert listings(proxy)
    assert bucket_objects(proxy.url, bucket) == wanted(site)


@pytest.mark.slow
def test_a_verify_stopped_midway_leaves_its_repairs_to_the_next_deploy(
    site: Site, proxy: Proxy, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)
    page = next(k for k in site.files() if k.startswith("articles/") and k.endswith("/index.html"))
    client = _client(proxy.url)
    client.delete_object(Bucket=bucket, Key=page)  # sent early: an article page
    client.put_object(Bucket=bucket, Key="feeds/atom.xml", Body=b"<feed>by hand</feed>")  # late
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    proxy.fail_after = proxy.puts  # the first object fails: nothing was repaired
    failed = site.run(f"s3://{bucket}", "--endpoint-url", proxy.url, "--verify")
    assert failed.returncode == 2, failed.stderr
    proxy.fail_after = None
    proxy.requests.clear()
    again = site.deploy(f"s3://{bucket}", "--endpoint-url", proxy.url)  # trusting its record
    assert listings(proxy) == []
    assert "sent 2 objects" in again.output
    assert bucket_objects(proxy.url, bucket) == wanted(site)


@pytest.mark.slow
def test_a_deploy_after_another_machine_deployed_lists_and_repairs(
    site: Site, proxy: Proxy, bucket: str, tmp_path: Path
) -> None:
    target, mine, other = f"s3://{bucket}", tmp_path / "mine", tmp_path / "other"
    assert deploy(site.out, target, endpoint_url=proxy.url, state_dir=mine).verified
    assert not deploy(site.out, target, endpoint_url=proxy.url, state_dir=mine).verified
    edit(site, "00044_story")
    by_other = deploy(site.out, target, endpoint_url=proxy.url, state_dir=other)
    assert by_other.verified  # no record there: it listed the bucket, then sent the edit
    assert by_other.sent > 0
    _client(proxy.url).delete_object(Bucket=bucket, Key="feeds.opml")
    proxy.requests.clear()
    report = deploy(site.out, target, endpoint_url=proxy.url, state_dir=mine)
    assert report.verified  # the marker names the other machine's deploy
    assert listings(proxy)
    # The other machine's objects are found in place; only what is missing is sent.
    assert [(c.action, c.key) for c in report.changes] == [("put", "feeds.opml")]
    assert bucket_objects(proxy.url, bucket) == wanted(site)
    proxy.requests.clear()
    assert not deploy(site.out, target, endpoint_url=proxy.url, state_dir=mine).verified
    assert listings(proxy) == []


@pytest.mark.slow
def test_continuous_publishing_sends_the_change_and_the_marker_only(
    site: Site, proxy: Proxy, bucket: str, tmp_path: Path
) -> None:
    target = f"s3://{bucket}"
    deploy(site.out, target, endpoint_url=proxy.url, share=False)
    for key in ("00044_story", "00043_story"):
        before = wanted(site)
        edit(site, key)
        changed = {k for k, md5 in wanted(site).items() if before.get(k) != md5}
        proxy.requests.clear()
        report = deploy(site.out, target, endpoint_url=proxy.url, share=False)
        assert {c.key for c in report.changes} == changed
        writes = [path for method, path in proxy.requests if method != "GET"]
        assert sorted(writes) == sorted(f"/{bucket}/{k}" for k in [MARKER_NAME, *changed])
        assert listings(proxy) == []
    # The target's copy of the state is older now: a machine starting from it lists the
    # bucket, resends what that copy does not vouch for, and ends with the same bucket.
    other = deploy(site.out, target, endpoint_url=proxy.url, state_dir=tmp_path / "other")
    assert other.verified
    assert other.deleted == 0
    assert bucket_objects(proxy.url, bucket) == wanted(site)


@pytest.mark.slow
def test_a_folder_target_trusts_its_record_and_verify_repairs(site: Site, tmp_path: Path) -> None:
    folder = tmp_path / "www"
    assert "(target listed)" in site.deploy(str(folder)).output
    (folder / "feeds.opml").unlink()
    (folder / "robots.txt").write_text("changed by hand")
    (folder / "extra.html").write_text("not from the export")
    assert "sent 0 objects" in site.deploy(str(folder)).output
    repaired = site.deploy(str(folder), "--verify")
    assert "sent 2 objects (0 redirects), deleted 1," in repaired.output
    assert (folder / "feeds.opml").read_bytes() == (site.out / "feeds.opml").read_bytes()
    assert (folder / "robots.txt").read_bytes() == (site.out / "robots.txt").read_bytes()
    assert not (folder / "extra.html").exists()


def test_a_journal_torn_by_a_kill_loses_only_its_last_line(tmp_path: Path) -> None:
    kept = SentObject("2" * 32, "t", (("K", "v"),))
    ledger = open_ledger(tmp_path, "s3://b", None)
    ledger.begin("one")
    ledger.sent({"a": SentObject("1" * 32, "1" * 32), "b": kept})
    ledger.forget(["a"])
    with ledger.journal.open("a") as file:
        file.write('["put",[["c","3')  # killed in the middle of a line
    again = open_ledger(tmp_path, "s3://b", None)
    assert (again.token, again.records) == ("one", {"b": kept})
    again.sent({"d": SentObject("4" * 32, "4" * 32)})  # appended after the torn line
    reread = open_ledger(tmp_path, "s3://b", None)
    assert set(reread.records) == {"b", "d"}
    reread.fold()  # into the snapshot: the same state, an empty journal
    assert not reread.journal.exists()
    folded = open_ledger(tmp_path, "s3://b", None)
    assert (folded.token, folded.records) == (reread.token, reread.records)
    assert json.loads(ledger.snapshot.read_bytes())["token"] == "one"
    # Another target, or the same bucket at another endpoint, has a record of its own.
    assert open_ledger(tmp_path, "s3://b", "http://127.0.0.1:9").records == {}


def test_a_journal_naming_more_objects_than_the_state_holds_is_due_for_folding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Full deploys write one line naming every file: the journal is folded by the objects it
    names, not only by its lines, and a ledger read back counts them the same."""
    monkeypatch.setattr(ledger_module, "FOLD_AT", 3)
    every = {f"k{n}": SentObject(f"{n:032d}", "t") for n in range(10)}
    ledger = open_ledger(tmp_path, "s3://b", None)
    ledger.sent(every)  # a first full deploy: 10 objects, one line
    assert (ledger.lines, ledger.rows, ledger.due()) == (1, 10, False)
    ledger.sent(every)  # another full deploy: the journal names twice what the state holds
    assert (ledger.lines, ledger.rows, ledger.due()) == (2, 20, True)
    assert open_ledger(tmp_path, "s3://b", None).rows == 20
    ledger.fold()
    assert (ledger.rows, ledger.due()) == (0, False)
    assert open_ledger(tmp_path, "s3://b", None).records == every


def test_the_record_is_kept_beside_the_export(tmp_path: Path) -> None:
    assert folder_for(tmp_path / "site") == tmp_path / ".site.deploy"


@pytest.mark.slow
def test_told_what_the_export_changed_a_deploy_reads_no_manifest(
    site: Site, proxy: Proxy, bucket: str, tmp_path: Path
) -> None:
    target = f"s3://{bucket}"
    deploy(site.out, target, endpoint_url=proxy.url, share=False)
    before = dict(manifest.load(site.out).files)  # type: ignore[union-attr]
    edit(site, "00044_story")
    (site.seeds / "00030_story.txt").unlink()
    site.build()
    after = dict(manifest.load(site.out).files)  # type: ignore[union-attr]
    changed = {name: e for name, e in after.items() if before.get(name) != e}
    removed = set(before) - set(after)
    assert removed
    aside = tmp_path / "manifest-aside"
    (site.out / manifest.NAME).rename(aside)  # what it holds is told, not read
    try:
        report = deploy(
            site.out, target, endpoint_url=proxy.url, share=False, changed=changed, removed=removed
        )
    finally:
        aside.rename(site.out / manifest.NAME)
    assert not report.verified
    held = {k for k in changed if not k.startswith(".") and k not in DEPLOY_FILES}
    assert {c.key for c in report.changes if c.action != "delete"} == held
    assert {c.key for c in report.changes if c.action == "delete"} == removed - {manifest.NAME}
    assert bucket_objects(proxy.url, bucket) == wanted(site)
    # Its record is whole: a deploy reading the manifest finds nothing more to send.
    assert deploy(site.out, target, endpoint_url=proxy.url, verify=True).changes == ()
