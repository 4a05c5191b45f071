"""The package's shape holds: small modules, few loose ones, no import circles, and URL shapes
written only in the URL map. (The layers and where Flask, boto3 and cryptography may be imported
are import-linter's contracts in pyproject.toml, run by `lint-imports`.)"""

from __future__ import annotations

import re
from pathlib import Path

import grimp

import feedsvc

PACKAGE = Path(feedsvc.__file__).resolve().parent
MAX_LINES = 300
MAX_LOOSE = 8

# A string that starts like one of the publication's URL folders ("/articles/", "/sections/x/").
URL_SHAPE = re.compile(
    r"""["'](/(articles|sections|tags|authors|feeds|page|archive|fediverse|static|icons|images"""
    r"""|sitemaps|nodeinfo|\.well-known)/|/[a-z-]+\.(json|xml|opml|txt|ico|png)["']"""
    r"""|/(oembed|healthz|subscribe/)["'])"""
)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(PACKAGE)): lines
        for path in _modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"split these (or give them a second module): {long}"


def test_few_loose_modules_at_the_top() -> None:
    loose = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(loose) <= MAX_LOOSE, loose


def test_url_shapes_are_written_only_in_the_url_map() -> None:
    found = []
    for path in _modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "urlmap":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if URL_SHAPE.search(code) and not code.lstrip().startswith(('"""', "'''")):
                found.append(f"{rel}:{number}: {line.strip()}")
    assert found == [], "ask feedsvc.urlmap instead:\n" + "\n".join(found)


def test_no_import_circles() -> None:
    graph = grimp.build_graph("feedsvc", cache_dir=None)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    # Tarjan's strongly connected components, iteratively
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    circles.append(sorted(group))
    assert circles == [], f"modules that import each other, round a circle: {circles}"
