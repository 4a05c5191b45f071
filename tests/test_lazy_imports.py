"""Light imports: the command line and the article parser load no web framework, no S3 client
and no cryptography until a command needs them; a command whose extra is missing says which
one to install, in one line.

Each case runs in a fresh interpreter (what an import loads depends on what was loaded before,
and this test process has loaded everything).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# What `pip install feedsvc` (no extras) must be able to run without, and what is heavy.
LAZY = frozenset({"flask", "werkzeug", "jinja2", "boto3", "botocore", "cryptography"})

ARTICLES = """\
import pkgutil
import feedsvc.articles
for found in pkgutil.walk_packages(feedsvc.articles.__path__, "feedsvc.articles."):
    __import__(found.name)
"""

CLI_HELP = """\
import sys
from feedsvc.cli import main
sys.argv = ["feedsvc", "--help"]
try:
    main()
except SystemExit:
    pass
"""

CASES = {
    "import feedsvc.cli": ("import feedsvc.cli", set()),
    "feedsvc --help": (CLI_HELP, set()),
    "every module of feedsvc.articles": (ARTICLES, set()),
    "import feedsvc.config.settings": ("import feedsvc.config.settings", set()),
    # The probe itself works: the app factory does load the web framework.
    "import feedsvc.web.app": ("import feedsvc.web.app", {"flask", "werkzeug", "jinja2"}),
}


def _environ() -> dict[str, str]:
    # pytest-cov's subprocess hook would import coverage machinery into the child
    return {k: v for k, v in os.environ.items() if not k.startswith("COV_CORE_")}


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_environ(), **env},
        check=False,
    )


def loaded_by(code: str) -> set[str]:
    """Return the top-level packages loaded by `code` in a fresh interpreter."""
    process = _run(code + "\nimport sys\nprint(*sys.modules, file=sys.stderr)\n")
    assert process.returncode == 0, process.stderr
    names = process.stderr.split()
    assert "feedsvc" in names  # the probe ran
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize(("code", "expected"), list(CASES.values()), ids=list(CASES))
def test_only_what_is_needed_is_imported(code: str, expected: set[str]) -> None:
    assert loaded_by(code) & LAZY == expected


# A missing extra, as `pip install feedsvc` leaves it: None in sys.modules makes the import fail
# the way a missing package does (and find_spec answer None).
WITHOUT = """\
import sys
for name in {missing!r}:
    sys.modules[name] = None
from feedsvc.cli import main
sys.argv = ["feedsvc", *{args!r}]
main()
"""


@pytest.mark.parametrize(
    ("missing", "args", "env", "extra"),
    [
        (["boto3", "botocore"], ["deploy", "s3://bucket"], {}, "s3"),
        (["boto3", "botocore"], ["check"], {"FEEDSVC_DEPLOY": "s3://bucket"}, "s3"),
        (["cryptography"], ["check"], {"FEEDSVC_FEDIVERSE": "1"}, "fediverse"),
    ],
    ids=["deploy s3:// without boto3", "FEEDSVC_DEPLOY=s3://", "FEEDSVC_FEDIVERSE"],
)
def test_a_missing_extra_is_named_in_one_line(
    missing: list[str], args: list[str], env: dict[str, str], extra: str, tmp_path: object
) -> None:
    process = _run(
        WITHOUT.format(missing=missing, args=args),
        FEEDSVC_SEEDS_DIR=str(tmp_path),
        FEEDSVC_DATABASE=f"{tmp_path}/catalog.sqlite3",
        FEEDSVC_EXPORT_DIR=f"{tmp_path}/site",
        **env,
    )
    assert process.returncode != 0
    lines = process.stderr.strip().splitlines()
    assert lines[-1].endswith(f"pip install 'feedsvc[{extra}]'"), process.stderr
    assert "Traceback" not in process.stderr
