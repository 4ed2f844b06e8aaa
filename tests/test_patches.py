"""The internals of other libraries that builder patches, replaces or subclasses.

builder reaches into WeasyPrint, pydyf and citeproc-py where their public API does
not go far enough (each place is named below).  Those libraries are pinned in
pyproject.toml to the versions tested; when one of them is upgraded, the test of
each internal that changed fails here with the package, its installed version and
what was expected, instead of a wrong PDF or bibliography somewhere else.

One test per patch: an internal that is gone, moved, or has another shape (its
parameters, a generator that became a function, the bytecode a check relies on).
"""
from __future__ import annotations

import inspect
import logging
import types
from importlib import metadata
from typing import Any

import pytest

TESTED = {"weasyprint": "70.x", "pydyf": "0.13.x", "citeproc-py": "0.11.1"}


def broke(package: str, what: str, user: str) -> str:
    """The message of a failed check: which library version changed which internal."""
    return (f"{package} {metadata.version(package)} changed an internal that {user} relies on "
            f"(tested with {package} {TESTED[package]}): {what}. Adapt {user}, or pin "
            f"{package} back in pyproject.toml")


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def names_used(code: types.CodeType) -> set[str]:
    """The global and attribute names a function's code (nested functions too) uses."""
    found = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found |= names_used(const)
    return found


# --- WeasyPrint ---------------------------------------------------------------------------

PDF_PY = "builder/formats/pdf.py"


def test_weasyprint_tags_build_box_tree() -> None:
    """pdf._tagging replaces ``weasyprint.pdf.tags._build_box_tree`` (PDF/UA tags)."""
    from weasyprint.pdf import tags
    user = f"{PDF_PY} (_tagging, PDF/UA structure tags)"
    function = getattr(tags, "_build_box_tree", None)
    assert function is not None, broke("weasyprint", "weasyprint.pdf.tags._build_box_tree "
                                       "is gone", user)
    assert inspect.isgeneratorfunction(function), broke(
        "weasyprint", "weasyprint.pdf.tags._build_box_tree is no longer a generator", user)
    expected = ["box", "parent", "pdf", "page_number", "nums", "annotations", "tags"]
    assert parameters(function) == expected, broke(
        "weasyprint", f"weasyprint.pdf.tags._build_box_tree{inspect.signature(function)}, "
        f"expected ({', '.join(expected)})", user)
    callers = [name for name, f in vars(tags).items() if inspect.isfunction(f)
               and name != "_build_box_tree" and "_build_box_tree" in names_used(f.__code__)]
    assert callers, broke("weasyprint", "nothing in weasyprint.pdf.tags calls "
                          "_build_box_tree by its module-level name any more", user)


def test_weasyprint_linebox_layout_footnote_moving() -> None:
    """pdf._notes_stay_with_calls replaces ``weasyprint.document.LayoutContext`` with a
    subclass whose ``in_column`` reads True in ``layout.block._linebox_layout``, after
    checking that function's bytecode.  Without it the PDF is laid out again (slower)."""
    from builder.formats import pdf
    with pdf._notes_stay_with_calls() as installed:
        assert installed, broke(
            "weasyprint", "weasyprint.layout.block._linebox_layout no longer reads "
            "context.in_column once into `report` before moving footnotes, or "
            "weasyprint.document.LayoutContext is no longer weasyprint.layout.LayoutContext "
            "with a plain `in_column` attribute", f"{PDF_PY} (_notes_stay_with_calls)")
    from weasyprint import document
    from weasyprint.layout import LayoutContext
    assert document.LayoutContext is LayoutContext  # restored


def test_weasyprint_metadata_uuid4() -> None:
    """pdf._fixed_document_id replaces ``weasyprint.pdf.metadata.uuid4`` (the XMP
    DocumentID of PDF/X-4) so that rebuilds are byte-identical."""
    import uuid

    from weasyprint.pdf import metadata as wmeta
    user = f"{PDF_PY} (_fixed_document_id)"
    assert getattr(wmeta, "uuid4", None) is uuid.uuid4, broke(
        "weasyprint", "weasyprint.pdf.metadata no longer imports uuid4 by name", user)
    users = [name for name, f in inspect.getmembers(wmeta.DocumentMetadata, inspect.isfunction)
             if "uuid4" in names_used(f.__code__)]
    assert users, broke("weasyprint", "weasyprint.pdf.metadata.DocumentMetadata no longer "
                        "calls uuid4() (the XMP DocumentID may be random elsewhere)", user)


def test_weasyprint_url_fetcher() -> None:
    """resources.make_url_fetcher subclasses ``weasyprint.urls.URLFetcher`` and overrides
    ``fetch(url, headers)``; pdf._svg_fetcher wraps an instance's ``fetch`` and makes
    ``URLFetcherResponse(url, body, headers)``, reading ``content_type`` and ``read()``."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse
    user = "builder/resources.py (ProjectFetcher) and builder/formats/pdf.py (_svg_fetcher)"
    assert parameters(URLFetcher.fetch)[:3] == ["self", "url", "headers"], broke(
        "weasyprint", f"URLFetcher.fetch{inspect.signature(URLFetcher.fetch)}, "
        "expected (self, url, headers=None)", user)
    assert "allowed_protocols" in parameters(URLFetcher.__init__), broke(
        "weasyprint", "URLFetcher() takes no allowed_protocols", user)
    assert parameters(URLFetcherResponse.__init__)[:4] == ["self", "url", "body", "headers"], \
        broke("weasyprint", "URLFetcherResponse"
              f"{inspect.signature(URLFetcherResponse.__init__)}, expected (url, body, headers)",
              user)
    response = URLFetcherResponse("data:,x", b"<svg/>", {"Content-Type": "image/svg+xml"})
    assert response.content_type == "image/svg+xml" and response.read() == b"<svg/>", broke(
        "weasyprint", "URLFetcherResponse's content_type or read() changed", user)


def _render(html: str, **options: Any) -> Any:
    import weasyprint
    return weasyprint.HTML(string=html).render(**options)


def test_weasyprint_page_box_and_progress_log() -> None:
    """pdf._blocks_on walks ``Page._page_box.descendants()`` (boxes with ``element``),
    and build._counting_pages reads the page numbers WeasyPrint logs to
    ``weasyprint.progress`` ("... Page %d")."""
    seen: list[int] = []

    class Pages(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "Page" in str(record.msg) and record.args:
                seen.append(int(record.args[0]))  # type: ignore[index]

    logger = logging.getLogger("weasyprint.progress")
    handler, level = Pages(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        document = _render('<p data-block="0">one</p><p style="break-before: page">two</p>')
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    page = document.pages[0]
    assert hasattr(page, "_page_box"), broke(
        "weasyprint", "a Page of Document.pages has no _page_box", f"{PDF_PY} (_blocks_on)")
    elements = [getattr(box, "element", None) for box in page._page_box.descendants()]
    assert any(e is not None and e.get("data-block") == "0" for e in elements), broke(
        "weasyprint", "Page._page_box.descendants() no longer yields the boxes of the page's "
        "elements (with .element)", f"{PDF_PY} (_blocks_on)")
    assert seen[:2] == [1, 2], broke(
        "weasyprint", f"the weasyprint.progress log gave pages {seen}, expected [1, 2] "
        "(a 'Page %d' message with the number as its first argument)",
        "builder/build.py (_counting_pages, the PDF's progress line)")


# --- pydyf (through WeasyPrint's finisher) -------------------------------------------------

def test_pydyf_objects_seen_by_the_finisher() -> None:
    """pdf._Finisher gets WeasyPrint's pydyf PDF through ``write_pdf(finisher=)`` and
    changes it: ``pdf.objects``, ``pdf.catalog``, ``pdf.add_object``, the pages as
    ``pydyf.Dictionary`` with ``/Type /Page`` and ``Contents``, ``pydyf.Stream``'s
    ``stream``, ``extra`` and ``reference``, ``pydyf.Array`` and ``pydyf.String``."""
    import pydyf
    user = f"{PDF_PY} (_Finisher: print marks, bleed, PDF/A and PDF/UA fixes)"
    for name in ("PDF", "Dictionary", "Stream", "Array", "String"):
        assert isinstance(getattr(pydyf, name, None), type), broke(
            "pydyf", f"pydyf.{name} is gone", user)
    assert parameters(pydyf.Stream.__init__)[:3] == ["self", "stream", "extra"], broke(
        "pydyf", f"pydyf.Stream{inspect.signature(pydyf.Stream.__init__)}, expected "
        "(stream, extra, ...)", user)
    got: dict[str, Any] = {}

    def finisher(document: Any, pdf: Any) -> None:
        got["pdf"] = pdf
        got["document"] = document

    import weasyprint
    assert "finisher" in parameters(weasyprint.Document.write_pdf), broke(
        "weasyprint", "Document.write_pdf takes no finisher", user)
    _render("<p>one</p>").write_pdf(finisher=finisher)
    pdf = got.get("pdf")
    assert pdf is not None, broke("weasyprint", "write_pdf did not call the finisher", user)
    assert isinstance(pdf, pydyf.PDF) and isinstance(pdf.catalog, pydyf.Dictionary) \
        and callable(getattr(pdf, "add_object", None)), broke(
        "pydyf", "the finisher's PDF has no catalog or add_object", user)
    pages = [o for o in pdf.objects if isinstance(o, pydyf.Dictionary) and o.get("Type") == "/Page"]
    assert len(pages) == 1 and "Contents" in pages[0], broke(
        "pydyf", "the PDF's objects hold no page Dictionary (/Type /Page) with Contents", user)
    streams = {o.reference: o for o in pdf.objects if isinstance(o, pydyf.Stream)}
    content = streams.get(pages[0]["Contents"])
    assert content is not None and isinstance(content.stream, list) \
        and isinstance(content.extra, dict), broke(
        "pydyf", "a page's Contents is no longer the reference of a Stream with a list "
        "`stream` and a dict `extra`", user)


# --- citeproc-py ---------------------------------------------------------------------------
#
# builder/citations/elements.py subclasses citeproc-py's CSL element classes and
# overrides their methods (calling the originals with super()); engine.py subclasses
# its item, bibliography, source, reference and name classes.  Each override is listed
# with the signature it was written against (citeproc-py 0.11.1).

OVERRIDDEN: dict[str, str] = {
    "model.Style.set_locale_list": "(self, output_locale, validate=True)",
    "model.Text.process": "(self, item, context=None, **kwargs)",
    "model.Text._variable": "(self, item, context)",
    "model.Text.render": "(self, *args, **kwargs)",
    "model.Date.process": "(self, item, variable=None, show_parts=None, context=None, **kwargs)",
    "model.Date.markup": "(self, text)",
    "model.CitationStylesElement.render": "(self, *args, **kwargs)",
    "model.Date_Part.process": "(self, date, context=None)",
    "model.Number.process": "(self, item, context=None, **kwargs)",
    "model.Number.render": "(self, *args, **kwargs)",
    "model.Names.process": "(self, item, names_context=None, context=None, **kwargs)",
    "model.Substitute.render": "(self, item, context=None, **kwargs)",
    "model.Group.process": "(self, item, context=None, **kwargs)",
    "model.Macro.render": "(self, item, context=None, sort_options=None)",
    "model.Name.get_option": "(self, name, context=None, sort_options=None)",
    "model.Name.initialize": "(self, given, mark, context)",
    "model.Name.process": "(self, item, variable, context=None, sort_options=None, **kwargs)",
    "model.Key.sort_keys": "(self, items, context)",
    "model.Key._format_name": "(self, item, variable)",
    "model.Sort.sort": "(self, items, context)",
    "model.Label.process": "(self, item, variable=None, plural=None, context=None, **kwargs)",
    "model.If.render": "(self, item, context=None, delimiter='', **kwargs)",
    "model.If._type": "(self, item)",
    "model.If._variable": "(self, item)",
    "model.If._is_numeric": "(self, item)",
    "model.If._position": "(self, item, context)",
    "model.Formatted.format": "(self, string)",
    "model.Locale.get_option": "(self, name)",
    "model.TextCased.case": "(self, text, language=None)",
    "model.StrippedPeriods.strip_periods": "(self, string)",
    "frontend.CitationStylesStyle.__init__": "(self, style, locale=None, validate=True)",
    "source.CitationItem.__init__": "(self, key, bibliography=None, **args)",
    "source.CustomDict.__getitem__": "(self, key)",
    "frontend.CitationStylesBibliography.__init__": "(self, style, source, formatter=html)",
    "frontend.CitationStylesBibliography.register": "(self, citation, callback=None)",
    "source.json.CiteProcJSON.__init__": "(self, json_data)",
    "source.json.CiteProcJSON.parse_names": "(self, json_data)",
    "source.Reference.__init__": "(self, key, type, **args)",
}
ELEMENTS = "builder/citations/elements.py and engine.py"


def _citeproc(path: str) -> Any:
    """``citeproc.<module>.<Class>.<attribute>`` by its dotted path, or None."""
    import importlib
    parts = path.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            found: Any = importlib.import_module("citeproc." + ".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = inspect.getattr_static(found, name, None)
            if found is None:
                return None
        return found
    return None


def _shape(function: Any) -> str:
    """A signature as text, a module default by its last name (``formatter=html``)."""
    parts = []
    for p in inspect.signature(function).parameters.values():
        text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
        if p.default is not p.empty:
            default = p.default
            text += "=" + (default.__name__.rsplit(".", 1)[-1]
                           if isinstance(default, types.ModuleType) else repr(default))
        parts.append(text)
    return "(" + ", ".join(parts) + ")"


@pytest.mark.parametrize("path", sorted(OVERRIDDEN))
def test_citeproc_overridden_method(path: str) -> None:
    function = _citeproc(path)
    assert function is not None, broke("citeproc-py", f"citeproc.{path} is gone", ELEMENTS)
    assert _shape(function) == OVERRIDDEN[path], broke(
        "citeproc-py", f"citeproc.{path}{_shape(function)}, expected {OVERRIDDEN[path]}",
        ELEMENTS)


def test_citeproc_properties_shadowed_by_item() -> None:
    """engine._Item shadows CitationItem's ``bibliography``, ``reference`` and ``number``
    properties with plain attributes (see its docstring)."""
    from citeproc.source import CitationItem
    for name in ("bibliography", "reference", "number"):
        assert isinstance(inspect.getattr_static(CitationItem, name, None), property), broke(
            "citeproc-py", f"CitationItem.{name} is no longer a property",
            "builder/citations/engine.py (_Item)")


def test_citeproc_element_lookup() -> None:
    """elements._lookup maps tags to classes as citeproc-py's frontend does: the
    direct subclasses of ``CitationStylesElement``, named by tag; ``__getattr__`` finds
    a child cs:name; ``xpath_search`` and ``get_root`` exist; ``Locale`` has
    ``_default_options`` (elements._memoized replaces all of them with memos)."""
    from citeproc import frontend, model
    user = "builder/citations/elements.py (_lookup, _memoized)"
    source = inspect.getsource(frontend.CitationStylesXML.__init__)
    assert "CitationStylesElement.__subclasses__()" in source \
        and "replace('_', '-').lower()" in source, broke(
        "citeproc-py", "CitationStylesXML no longer maps the subclasses of "
        "CitationStylesElement to tags by name", user)
    tags = {cls.__name__.replace("_", "-").lower()
            for cls in model.CitationStylesElement.__subclasses__()}
    from builder.citations.elements import FIXED
    assert set(FIXED) <= tags, broke(
        "citeproc-py", f"no citeproc-py element class for {sorted(set(FIXED) - tags)}", user)
    for name in ("xpath_search", "get_root", "__getattr__"):
        assert callable(getattr(model.CitationStylesElement, name, None)), broke(
            "citeproc-py", f"CitationStylesElement.{name} is gone", user)
    getattr_source = inspect.getsource(model.CitationStylesElement.__getattr__)
    assert "find('cs:' + name" in getattr_source, broke(
        "citeproc-py", "CitationStylesElement.__getattr__ no longer finds the child cs:name",
        user)
    assert isinstance(getattr(model.Locale, "_default_options", None), dict), broke(
        "citeproc-py", "Locale._default_options is gone", user)


def test_citeproc_bibliography_attributes() -> None:
    """engine._Bibliography's ``register`` and ``number`` read and append to
    ``keys``, ``items`` and ``source`` (citeproc-py's own attributes)."""
    from citeproc import CitationStylesBibliography, CitationStylesStyle, formatter
    from citeproc.source.json import CiteProcJSON
    style = CitationStylesStyle("harvard-cite-them-right", validate=False)
    source = CiteProcJSON([{"id": "a", "type": "book", "title": "A"}])
    bibliography = CitationStylesBibliography(style, source, formatter.html)
    for name, kind in (("keys", list), ("items", list), ("source", CiteProcJSON)):
        assert isinstance(getattr(bibliography, name, None), kind), broke(
            "citeproc-py", f"CitationStylesBibliography.{name} is not a {kind.__name__}",
            "builder/citations/engine.py (_Bibliography)")
