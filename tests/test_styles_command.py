"""`builder styles` prints style titles as text: "&", not "&amp;" (issue 12)."""
from __future__ import annotations

import pytest

from conftest import run_builder

pytestmark = pytest.mark.external  # runs the builder command line


def _listing(*query: str) -> list[list[str]]:
    """Each line of ``python -m builder styles [QUERY]`` as [name, title]."""
    result = run_builder("styles", *query)
    assert result.returncode == 0, result.stderr
    return [line.split(maxsplit=1) for line in result.stdout.splitlines()]


@pytest.mark.parametrize("query,name,title", [
    ("ageing-and-society", "ageing-and-society", "Ageing & Society"),
    ("annals-of-allergy", "annals-of-allergy-asthma-and-immunology",
     "Annals of Allergy, Asthma & Immunology"),
    # a numeric character reference in the style file (&#8211;)
    ("bibliothek-forschung", "bibliothek-forschung-und-praxis",
     "Bibliothek – Forschung und Praxis"),
])
def test_titles_are_decoded(query: str, name: str, title: str) -> None:
    assert _listing(query) == [[name, title]]


def test_query_matches_the_decoded_title() -> None:
    assert ["ageing-and-society", "Ageing & Society"] in _listing("Ageing & Society")


def test_no_title_of_the_whole_listing_is_escaped() -> None:
    lines = _listing()
    assert len(lines) > 2500
    escaped = [line for line in lines if "&amp;" in " ".join(line) or "&#" in " ".join(line)]
    assert not escaped
    assert sum("&" in " ".join(line) for line in lines) > 50
