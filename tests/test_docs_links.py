"""The documentation stands alone: every link in README.md and docs/ stays in the repository.

A user who clones pager must be able to follow every link. This test reads the markdown
files of the repository (README.md, docs/, and any other tracked-looking ``*.md``) and
fails on a link that

* leaves the repository (``../shared/SPEC.md`` from README.md),
* points to a file or directory that does not exist,
* names an anchor (``configuration.md#secrets``) that no heading of the target produces,
* uses a scheme other than http, https or mailto (``file:///etc/pager``).

Anchors are GitHub's: the heading text lower-cased, punctuation other than ``-`` and
``_`` removed, spaces turned into ``-``, repeats suffixed ``-1``, ``-2``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[1]
#: Directories that are not documentation (virtualenvs, caches, build output, the store).
SKIP_DIRS = frozenset({".git", ".venv", "var", "node_modules", "build", "dist", "__pycache__"})
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})

_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_INLINE_CODE = re.compile(r"(`+)(.+?)\1")
_INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]"  # [text], one level of nested brackets allowed
    r"\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)"  # (target "optional title")
)
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")
_HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)


def markdown_files(root: Path) -> list[Path]:
    """Every ``*.md`` under ``root``, skipping hidden and non-documentation directories."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in SKIP_DIRS and not d.startswith(".") and not d.endswith(".egg-info")
        )
        found.extend(Path(folder) / name for name in sorted(files) if name.endswith(".md"))
    return found


def _prose_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` outside fenced code blocks, inline code removed."""
    fenced = False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield number, _INLINE_CODE.sub("", line)


def links(text: str) -> list[tuple[int, str]]:
    """``(line number, target)`` of every inline, reference and HTML link."""
    out: list[tuple[int, str]] = []
    for number, line in _prose_lines(text):
        out.extend((number, m.group(1)) for m in _INLINE_LINK.finditer(line))
        out.extend((number, m.group(1)) for m in _REFERENCE.finditer(line))
        out.extend((number, m.group(1)) for m in _HTML_LINK.finditer(line))
    return out


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text (without the numbering of repeats)."""
    text = _INLINE_CODE.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link reads as its text
    return _SLUG_DROP.sub("", text.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor the headings of a markdown text produce."""
    seen: dict[str, int] = {}
    out: set[str] = set()
    fenced = False
    for line in text.splitlines():
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match is None:
            continue
        base = slug(match.group(2))
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


def problems_in(path: Path, root: Path) -> list[str]:
    """What is wrong with the links of ``path``, one message per bad link."""
    text = path.read_text(encoding="utf-8")
    where = path.relative_to(root)
    found: list[str] = []
    for number, target in links(text):
        place = f"{where}:{number}: {target!r}"
        if not target:
            found.append(f"{place}: empty link")
            continue
        scheme = _SCHEME.match(target)
        if scheme is not None:
            if scheme.group(1).lower() not in ALLOWED_SCHEMES:
                found.append(f"{place}: only http(s) and mailto links may leave the repository")
            continue
        if target.startswith("//"):
            found.append(f"{place}: a protocol-relative link leaves the repository")
            continue
        raw_path, _, anchor = target.partition("#")
        raw_path = unquote(raw_path.split("?", 1)[0])
        if raw_path:
            base = root if raw_path.startswith("/") else path.parent
            resolved = Path(os.path.normpath(base / raw_path.lstrip("/")))
            if not resolved.is_relative_to(root):
                found.append(f"{place}: leaves the repository")
                continue
            if not resolved.exists():
                found.append(f"{place}: no such file")
                continue
        else:
            resolved = path
        checkable = anchor and resolved.suffix == ".md" and resolved.is_file()
        if checkable and unquote(anchor).lower() not in anchors(resolved.read_text("utf-8")):
            found.append(f"{place}: no heading gives the anchor #{anchor}")
    return found


def test_every_documentation_link_stays_in_the_repository() -> None:
    files = markdown_files(ROOT)
    assert ROOT / "README.md" in files
    assert ROOT / "docs" / "README.md" in files
    problems = [problem for path in files for problem in problems_in(path, ROOT)]
    assert problems == []


def test_the_docs_index_lists_every_page_in_docs() -> None:
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    listed = {target.partition("#")[0] for _, target in links(index)}
    pages = {p.name for p in (ROOT / "docs").glob("*.md") if p.name != "README.md"}
    assert pages - listed == set()


def test_the_readme_points_into_docs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = {target for _, target in links(readme)}
    assert "docs/README.md" in targets


def test_the_checker_catches_each_kind_of_bad_link(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "docs").mkdir(parents=True)
    (tmp_path / "outside.md").write_text("# Outside\n")
    (repo / "docs" / "guide.md").write_text(
        "# Guide\n\n## The `store` key\n\n## Rule 3a: the cap\n\n## Rule 3a: the cap\n"
    )
    (repo / "README.md").write_text(
        "\n".join(
            [
                "[ok](docs/guide.md) [ok](docs/guide.md#the-store-key) [ok](#top)",
                "[ok](docs/guide.md#rule-3a-the-cap-1) [ok](https://example.com/x)",
                "[ok](mailto:ops@example.com) [ok](docs/) ![ok](/docs/guide.md)",
                "[escapes](../outside.md)",
                "[missing](docs/nothing.md)",
                "[no anchor](docs/guide.md#secrets)",
                "[scheme](file:///etc/pager/pager.yaml)",
                "[ref]: ../outside.md",
                '<a href="docs/gone.md">html</a>',
                "`[in code](../outside.md)`",
                "```",
                "[in a fence](../outside.md)",
                "```",
                "# Top",
            ]
        )
        + "\n"
    )
    problems = problems_in(repo / "README.md", repo)
    assert [p.split(": ", 1)[0] for p in problems] == [
        "README.md:4",
        "README.md:5",
        "README.md:6",
        "README.md:7",
        "README.md:8",
        "README.md:9",
    ]
    assert "leaves the repository" in problems[0]
    assert "no such file" in problems[1]
    assert "#secrets" in problems[2]
    assert "only http(s)" in problems[3]
    assert "leaves the repository" in problems[4]
    assert "no such file" in problems[5]


def test_slugs_follow_github() -> None:
    assert slug("Worked example: a Premier Severity 1 at 02:10 UTC") == (
        "worked-example-a-premier-severity-1-at-0210-utc"
    )
    assert slug("rotations/*.yaml") == "rotationsyaml"
    assert slug("POST /twilio/sms") == "post-twiliosms"
    assert slug("The `status_report` event") == "the-status_report-event"
