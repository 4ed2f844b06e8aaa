"""Everything CSL: references, styles, and rendering citations and bibliographies.

``process_citations`` is what the build uses; ``csl_engine`` is the same layer
behind the contract of the CSL test-suite runner (``bench/`` and ``tools/``).
"""
from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from html import escape as html_escape
from typing import Any

from ..errors import BuildError, raise_all
from ..model import CiteItem, Cluster, Reference, RenderedCitations
from . import markup
from .engine import Cite, Processor, ref_id
from .links import link_entry
from .quotes import escape_text
from .styles import Style, check_locale, load_style

__all__ = ["process_citations", "check_keys", "MAX_CITES_PER_CLUSTER", "csl_engine", "load_style",
           "ref_id", "Style"]
log = logging.getLogger(__name__)


def process_citations(clusters: Sequence[Cluster], references: Sequence[Reference],
                      style: Style, locale: str | None = None, nocite: Sequence[str] = (),
                      link_cites: bool = True, link_bibliography: bool = True
                      ) -> RenderedCitations:
    """Render every citation of the book, and the list of the references cited, with the
    ``nocite`` ones (Pandoc's metadata: keys, or ``*`` for every reference) after them.
    ``link_bibliography``: the identifiers (or titles) of the entries are links (see
    :mod:`.links`)."""
    by_key = {ref.key: ref for ref in references}
    check_keys(clusters, by_key)
    cited = _cited_in_order(clusters)
    extra = [k for k in (by_key if "*" in nocite else nocite) if k in by_key and k not in cited]
    cited += extra
    locale = check_locale(locale) if locale else style.default_locale
    cites = [[_cite(item, narrative=cluster.narrative and not style.note and n == 0)
              for n, item in enumerate(cluster.items)] for cluster in clusters]
    notes = [cluster.note_index for cluster in clusters]
    if extra:  # one cluster after all the others: in the list, numbered after the cited
        cites.append([_cite(CiteItem(key)) for key in extra])
        notes.append(0)
    try:
        processor = Processor(style.xml, [by_key[k].csl for k in cited], locale=locale,
                              link_cites=link_cites, affix_groups=True)
        output = processor.render(cites, notes)
    except BuildError:
        raise
    except Exception as exc:  # citeproc-py failing on a style is not the user's fault
        raise BuildError(f"citeproc-py failed with style '{style.name}': "
                         f"{type(exc).__name__}: {exc}", style.path,
                         hint="try another style; please report this style to us") from None
    rendered = {}
    for cluster, html in zip(clusters, output.citations[:len(clusters)], strict=True):
        if style.note:
            html = _in_note(cluster, html)
        keys = html_escape(" ".join(item.key for item in cluster.items), quote=True)
        rendered[cluster.id] = f'<span class="citation" data-cites="{keys}">{html}</span>'
    return RenderedCitations(
        clusters=rendered,
        bibliography=tuple((key, link_entry(entry, by_key[key].csl) if link_bibliography
                            and key in by_key else entry) for key, entry in output.bibliography),
        note_style=style.note,
        numeric=processor.cite_options.get("disambiguate-add-year-suffix") != "true"
        and "citation-number" in style.xml.decode("utf-8", "replace"),
        style_title=style.title,
        hanging_indent=processor.bib_options.get("hanging-indent") == "true",
        second_field_align=processor.bib_options.get("second-field-align"),
    )


def _in_note(cluster: Cluster, html: str) -> str:
    """A note style's citation as Pandoc sets it.  In one of the writer's footnotes it is
    part of a sentence: without the style's final period, and in parentheses unless it is
    narrative ("see (Doe, *Book*, 3) for more").  Alone in the note it made, it starts
    with a capital ("See Doe, ...")."""
    if cluster.in_footnote:
        if any(item.author_only for item in cluster.items):
            return html
        html = drop_final_period(html, through_quotes=True)
        return html if cluster.narrative else f"({html})"
    return _capitalized(html)


def drop_final_period(html: str, through_quotes: bool = False) -> str:
    """A rendered citation without its final period (before any closing tags, and with
    ``through_quotes`` closing quotes: '“Title.”' gives '“Title”')."""
    closing = r"</[^>]+>|[\u201d\u2019\u00bb\"']" if through_quotes else r"</[^>]+>"
    return re.sub(rf"\.((?:{closing})*)$", r"\1", html)


def _capitalized(html: str) -> str:
    """The first letter of the text (not of a tag or an entity) made a capital."""
    match = re.match(r"((?:<[^>]*>|\s)*)([^\W\d_])", html)
    if not match or not match.group(2).islower():
        return html
    return html[:match.start(2)] + match.group(2).upper() + html[match.end(2):]


def _cite(item: Any, narrative: bool = False) -> Cite:
    return Cite(id=item.key, locator=item.locator, label=item.label, prefix=item.prefix,
                suffix=item.suffix, suppress_author=item.suppress_author,
                author_only=item.author_only, narrative=narrative)


def _cited_in_order(clusters: Sequence[Cluster]) -> list[str]:
    seen: dict[str, None] = {}
    for cluster in clusters:
        for item in cluster.items:
            seen.setdefault(item.key, None)
    return list(seen)


# Cites in one citation (``[@a; @b; ...]``) at most.  Each is rendered alone and then put
# together with the others (collapsing, sorting, grouping by author), so a citation costs
# more than its cites; the longest in real writing hold a few dozen.
MAX_CITES_PER_CLUSTER = 1_000


def check_keys(clusters: Sequence[Cluster], by_key: dict[str, Any]) -> None:
    """Every citation of a key that is not in the bibliography, and every citation of more
    than :data:`MAX_CITES_PER_CLUSTER` cites, at once."""
    errors = []
    for cluster in clusters:
        if len(cluster.items) > MAX_CITES_PER_CLUSTER:
            pos = cluster.position
            errors.append(BuildError(
                f"a citation of {len(cluster.items):,} cites (the limit is "
                f"{MAX_CITES_PER_CLUSTER:,} in one citation)", pos.path, pos.line, pos.col,
                hint="split it into several citations"))
            continue
        for n, item in enumerate(cluster.items):
            if item.key not in by_key:
                close = difflib.get_close_matches(item.key, by_key, n=3)
                hint = ("did you mean " + ", ".join(f"@{k}" for k in close) + "?") if close \
                    else "add it to the bibliography, or fix the key"
                pos = cluster.key_positions[n] if n < len(cluster.key_positions) \
                    else cluster.position
                errors.append(BuildError(f"citation key '@{item.key}' is not in the bibliography",
                                         pos.path, pos.line, pos.col, hint=hint))
    raise_all(errors)


def _escaped(cite: Cite) -> Cite:
    """Test-suite affixes are text that may hold a few HTML tags: keep those."""
    return replace(cite, prefix=markup.decode(markup.encode(escape_text(cite.prefix))),
                   suffix=markup.decode(markup.encode(escape_text(cite.suffix))))


def csl_engine(style_xml: str, items: list[dict[str, Any]], citations: list[list[dict[str, Any]]],
               mode: str, **opts: Any) -> str:
    """The CSL test-suite contract: one line per cluster, or the bibliography entries."""
    # The suite leaves out "type" where it does not matter; citeproc-py needs one.
    items = [item if item.get("type") else {**item, "type": "article"} for item in items]
    processor = Processor(style_xml.encode("utf-8"), items, locale=opts.get("locale"))
    clusters = [[_escaped(Cite.from_json(c)) for c in cluster] for cluster in citations]
    if opts.get("cite_all") and len(clusters) == 1:  # every item, in bibliography order
        rank = {key: n for n, key in enumerate(processor.bibliography_order(clusters))}
        clusters = [sorted(clusters[0], key=lambda cite: rank[cite.id])]
    output = processor.render(clusters, opts.get("note_indexes"))
    if mode == "citation":
        return "\n".join(output.citations)
    bibliography = output.bibliography
    if opts.get("link_bibliography"):  # jgm/citeproc's "linkBibliography" option
        by_id = {str(item["id"]): item for item in items}
        bibliography = [(key, link_entry(entry, by_id[key])) for key, entry in bibliography]
    entries = "".join(f'  <div class="csl-entry">{html}</div>\n' for _, html in bibliography)
    return f'<div class="csl-bib-body">\n{entries}</div>'
