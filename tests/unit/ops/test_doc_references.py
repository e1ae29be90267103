"""A reference to a section of another document (`docs/x.md, "Heading"`) names one that exists.

The benchmark's report rewrites docs/benchmarks.md from each run and keeps only the marked
sections of other runs; a section it dropped once left two references pointing nowhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = re.compile(r'(docs/[a-z_-]+\.md), "([^"]+)"')


def references() -> list[tuple[str, str, str]]:
    """(file it is in, document named, heading named) of every such reference."""
    found = []
    for path in [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for document, heading in REFERENCE.findall(path.read_text()):
            found.append((path.name, document, heading))
    return found


def headings(document: Path) -> set[str]:
    lines = document.read_text().splitlines()
    return {line.lstrip("#").strip() for line in lines if line.startswith("#")}


def test_the_documents_refer_to_sections_at_all() -> None:
    assert len(references()) >= 10  # the pattern still matches how the docs write them


@pytest.mark.parametrize(("source", "document", "heading"), references())
def test_a_referenced_section_exists(source: str, document: str, heading: str) -> None:
    named = ROOT / document
    assert named.exists(), f"{source} refers to {document}, which does not exist"
    assert any(h == heading or h.startswith(heading) for h in headings(named)), (
        f'{source} refers to {document}, "{heading}", which has no such heading'
    )
