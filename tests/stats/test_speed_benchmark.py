"""The stats benchmark keeps working: a small run prints its figures (times not judged)."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.bench]


def test_the_benchmark_counts_a_small_log(capsys: pytest.CaptureFixture[str]) -> None:
    from benchmarks.stats_speed import main

    assert main(["--lines", "3000"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == [
        "plain",
        "gzip",
        "load average then",
        "access log",
    ]
    plain, packed = out[0].split("estimate ")[1], out[1].split("estimate ")[1]
    assert plain == packed  # the same log, plain or gzipped, gives the same estimate
    assert int(plain.split()[0].replace(",", "")) > 0
