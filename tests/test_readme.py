"""The README and docs/cli.md show the real settings and `--help`: regenerate them and
nothing changes."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _update_readme():
    spec = importlib.util.spec_from_file_location(
        "update_readme", ROOT / "scripts" / "update_readme.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


update_readme = _update_readme()


@pytest.mark.parametrize("path", update_readme.FILES, ids=lambda p: p.name)
def test_generated_sections_are_current(path):
    text = path.read_text()
    assert update_readme.render(text) == text, (
        f"{path.name} is stale: run python scripts/update_readme.py"
    )


def test_the_generated_sections_are_there():
    """Markers that went missing would leave nothing to compare."""
    readme = (ROOT / "README.md").read_text()
    cli = (ROOT / "docs" / "cli.md").read_text()
    assert "| `QA_LLM` | `--llm` |" in (ROOT / "docs" / "settings.md").read_text()
    assert "$ qa --help\nUsage:" in readme
    for command in ["qa", *update_readme.COMMANDS]:
        shown = "$ qa --help" if command == "qa" else f"$ qa {command} --help"
        assert f"{shown}\nUsage:" in cli, command


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces as hyphens."""
    found = set()
    for heading in re.findall(r"^#+ (.+)$", text, re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")
        found.add(slug)
    return found


def test_docs_links_resolve():
    """Links from the README into docs/ and between docs name files and headings that exist."""
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text()
        for target, anchor in re.findall(r"\]\(([^)#:\s]*)(?:#([^)\s]*))?\)", text):
            linked = (page.parent / target) if target else page
            assert linked.exists(), f"{page.name} links to {target}"
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked.read_text()), f"{page.name}: {target}#{anchor}"
