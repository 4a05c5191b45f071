"""The manifest's bytes: rows encoded by hand (and kept between writes) are json.dumps's."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsvc.export import manifest
from feedsvc.export.manifest import FORMAT, NAME, Entry, Manifest

_text = st.text(max_size=12)  # any character: quotes, backslashes, controls, non-ASCII
_entries = st.builds(
    Entry,
    path=_text,
    digest=_text,
    size=st.integers(min_value=0, max_value=2**40),
    md5=_text,
    content_type=st.sampled_from(["text/html; charset=utf-8", "image/png", 'text/x-"é\\\\']),
    headers=st.lists(st.tuples(_text, _text), max_size=2).map(tuple),
    encoding=st.none() | st.sampled_from(["gzip", "br"]),
    source=st.none() | _text,
)
_files = st.dictionaries(_text, _entries, max_size=8)


def _dumped(document: Manifest) -> bytes:
    """Return the manifest as one json.dumps of the document _parse reads."""
    types: dict[str, int] = {}
    header_sets: dict[tuple[tuple[str, str], ...], int] = {}
    rows = {}
    for name, entry in sorted(document.files.items()):
        kind = types.setdefault(entry.content_type, len(types))
        headers = header_sets.setdefault(entry.headers, len(header_sets))
        rows[name] = [
            entry.path,
            entry.digest,
            entry.size,
            entry.md5,
            kind,
            headers,
            entry.encoding,
            entry.source,
        ]
    whole = {
        "format": FORMAT,
        "fields": [
            "path",
            "digest",
            "size",
            "md5",
            "content_type",
            "headers",
            "encoding",
            "source",
        ],
        "build": document.build,
        "content_types": list(types),
        "header_sets": [[list(pair) for pair in headers] for headers in header_sets],
        "files": rows,
    }
    return json.dumps(whole, separators=(",", ":")).encode("utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_files, second=_files, keep=st.sets(_text, max_size=4))
def test_rows_are_json_dumps_s_bytes_before_and_after_a_change(
    first: dict[str, Entry], second: dict[str, Entry], keep: set[str]
) -> None:
    """Each write equals json.dumps of the whole document, whether its rows were encoded now or
    kept from the previous write (the same entry objects, moved among other type tables)."""
    earlier = Manifest("build-1", first)
    assert earlier.to_bytes() == _dumped(earlier)
    # The next manifest keeps some of the very same entries and changes or adds others.
    later_files = {name: entry for name, entry in first.items() if name in keep} | second
    later = Manifest("build-2", later_files)
    assert later.to_bytes() == _dumped(later)
    assert later.to_bytes() == _dumped(later)
    # The same names again, one entry replaced (an edit): the names' order is kept, not sorted.
    for name in sorted(later_files)[:1]:
        edited = Manifest("build-3", later_files | {name: Entry(name, "new", 1, "m", "x/y", ())})
        assert edited.to_bytes() == _dumped(edited)


def test_a_written_manifest_reads_back_entry_for_entry(tmp_path: Path) -> None:
    """What to_bytes writes, load reads back as the same entries."""
    files = {
        "a/index.html": Entry("/a/", "d1", 10, "m1", "text/html; charset=utf-8", (("X", "1"),)),
        "a/index.html.gz": Entry(
            "", "d1", 7, "m2", "text/html; charset=utf-8", (("X", "1"),), "gzip", "a/index.html"
        ),
        'é"\\\n.xml': Entry('/é"\\\n.xml', "", 3, "m3", "application/atom+xml", ()),
    }
    written = Manifest("b", files)
    (tmp_path / NAME).write_bytes(written.to_bytes())
    read = manifest.load(tmp_path)
    assert read == written
