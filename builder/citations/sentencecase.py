"""English BibTeX titles to sentence case, as pandoc's BibLaTeX reader does.

BibTeX titles are written in title case and the style decides how to print
them; CSL wants titles in sentence case, the style capitalising where it asks
for title case.  So an English title (``langid`` English or absent) is
converted on reading:

* a word is a run of letters or digits; hyphens and apostrophes end words
  ("Higher-Dimensional" → "Higher-dimensional", "O'Brien" → "o’brien");
* the first word of the title, and a word after ``.``, ``?``, ``!`` or ``:``
  followed by a space, is capitalised if it is all lowercase or capitalised;
* any other capitalised word ("Title", "A") is lowercased; words with a
  capital after the first letter ("NASA", "McDonald", "iPhone") are kept;
* text in ``<span class="nocase">`` (from ``{braces}``) and in small capitals is
  kept as written, but still counts as a word for the rules above.

After conversion a ``nocase`` span is kept only where it still matters: when
its text has a word starting with a lowercase letter (``{van Gogh}``), which a
style's title case would otherwise capitalise.
"""
from __future__ import annotations

import re

NOCASE_OPEN = '<span class="nocase">'
_PROTECTING = (NOCASE_OPEN, '<span style="font-variant:small-caps;">')
_TOKEN = re.compile(r"(<[^>]*>)|(&[#\w]+;)|(\w+)|(\s+)|(.)", re.S)
_SENTENCE_END = set(".?!:")
_WORD = re.compile(r"[^\W_]+")
_NOCASE_SPAN = re.compile(r'<span class="nocase">((?:(?!</?span).)*)</span>', re.S)


def sentence_case(text: str) -> str:
    """``text`` (CSL rich text) in sentence case; see the module docstring."""
    out: list[str] = []
    state = "start"  # start | word | punct | end-punct | sentence
    stack: list[bool] = []  # for each open span: does it protect?
    for match in _TOKEN.finditer(text):
        tag, entity, word, space, other = match.groups()
        if tag is not None:
            _track_span(tag, stack)
            out.append(tag)
        elif word is not None:
            protected = any(stack)
            out.append(word if protected else _case_word(word, state))
            state = "word"
        elif space is not None:
            out.append(space)
            if state == "end-punct":
                state = "sentence"
            elif state != "start":
                state = "space"
        else:
            char = entity or other
            out.append(char)
            if state != "start":
                state = "end-punct" if char in _SENTENCE_END else "punct"
    return unprotect("".join(out))


def _track_span(tag: str, stack: list[bool]) -> None:
    if tag.startswith("</span"):
        if stack:
            stack.pop()
    elif tag.startswith("<span"):
        stack.append(tag in _PROTECTING)


def _case_word(word: str, state: str) -> str:
    capitalised = word[:1].isupper() and all(char.islower() for char in word[1:])
    if state in ("start", "sentence"):
        if capitalised or word.islower():
            return word[:1].upper() + word[1:].lower()
        return word
    return word.lower() if capitalised else word


def unprotect(text: str) -> str:
    """Drop the ``nocase`` spans whose words all start with a capital or a digit."""
    def keep(match: re.Match[str]) -> str:
        inner = match.group(1)
        plain = re.sub(r"<[^>]*>", "", inner)
        if any(word[:1].islower() for word in _WORD.findall(plain)):
            return match.group(0)
        return inner
    return _NOCASE_SPAN.sub(keep, text)
