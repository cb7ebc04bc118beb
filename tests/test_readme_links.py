"""Every relative link in README.md names a file of the repository, and a #fragment a heading in it
(the docs site's own links are checked by `mkdocs build --strict`; the README is not part of it)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def heading_anchor(heading: str) -> str:
    """The anchor MkDocs (and GitHub) give a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return re.sub(r"\s+", "-", text)


def test_anchor_of_a_heading():
    assert heading_anchor("Video: people kept between detections") == "video-people-kept-between-detections"


def test_every_relative_readme_link_exists():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    relative = [link for link in links if "://" not in link]
    assert any(link.startswith("docs/") for link in relative)
    for link in relative:
        path, _, fragment = link.partition("#")
        target = REPO / path
        assert target.is_file(), f"README.md links to {link}, which is not a file"
        if fragment:
            headings = re.findall(r"^#+ (.+)$", target.read_text(encoding="utf-8"), flags=re.M)
            assert fragment in {heading_anchor(h) for h in headings}, f"README.md: no heading for {link}"
