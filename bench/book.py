"""Synthetic books for the benchmark: a complete builder project, deterministic by seed.

    python bench/book.py --size small|medium|large [--seed 1] --out DIR
                         [--words N] [--chapters N] [--refs N] [--citations N]

Writes ``DIR/book/book.yml``, ``DIR/book/NN-chapter.md`` and
``DIR/bibliography/references.json`` (CSL-JSON). The same size and seed always
give the same bytes. The text is English-like prose made from a fixed vocabulary,
with headings (h1-h3), footnotes (referenced and inline), pipe tables, bulleted,
numbered and nested lists, block quotes, emphasis, and Pandoc citations of every
common form: ``[@a]``, ``[@a, p. 3]``, ``[see @a; @b, pp. 3-5]``, ``[-@a]``,
narrative ``@a`` and ``@a [chap. 2]``, citations inside footnotes. The references
cover article-journal, book (authored and edited), chapter, report, webpage,
thesis, paper-conference, article-newspaper, article-magazine and dataset, with
personal and corporate authors, particles, editors, DOIs and URLs, items without
a date and several works by the same author in the same year.

Only syntax that both builder and pandoc (``--citeproc``) read the same way is used,
so the benchmark can hand the same files to both.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Size:
    words: int
    chapters: int
    refs: int
    citations: int  # citation clusters in the text (each holds one to three cites)


SIZES = {
    "small": Size(words=5_000, chapters=4, refs=50, citations=80),
    "medium": Size(words=40_000, chapters=10, refs=300, citations=550),
    "large": Size(words=150_000, chapters=20, refs=1_000, citations=2_000),
}

# --- vocabulary ---------------------------------------------------------------------------

NOUNS = """river city water policy report council market model network region
budget reform household survey farmer canal border trade energy price tariff
harvest season village school hospital road railway port factory industry worker
migrant family committee ministry province district census account measure
balance system process study argument evidence method sample pattern trend source
decision institution agreement treaty law court election parliament party coalition
journal archive record letter map estimate index ratio rate share growth decline
demand supply shortage surplus drought flood storm climate landscape valley basin
delta lake irrigation infrastructure investment loan debt tax subsidy contract
union strike wage pension service license permit standard rule exception history
memory tradition culture language identity community neighbourhood street market
bridge tunnel pipeline reservoir dam station plant grid supplier consumer""".split()

ADJECTIVES = """regional national local early late recent modern ancient urban rural
central northern southern eastern western economic political social cultural
historical statistical official informal small large new old public private annual
seasonal careful uneven steady sudden gradual strong weak common rare formal useful
important general specific complex simple open closed direct indirect visible
hidden shared separate reliable limited wider narrow lasting brief costly cheap""".split()

VERBS = """shapes reflects explains supports reduces increases limits follows changes
measures records describes challenges confirms suggests reveals affects outlines
improves weakens strengthens replaces connects divides governs finances delays
accelerates defines questions documents protects exposes undermines sustains""".split()

ADVERBS = """often rarely clearly largely partly slowly quickly steadily mostly
usually sometimes generally certainly probably directly""".split()

PREPOSITIONS = "in across within along among beyond through under over near".split()

PLACES = """the basin|the capital|the delta|the highlands|the steppe|the coast|the border regions|
the old town|the river valley|the northern provinces|the southern districts|
the industrial belt|the eastern suburbs""".replace("\n", "").split("|")

CONNECTIVES = [", and", ", but", "; however,", ", while", " because", ", so", ", although",
               "; moreover,", " whereas", ", since"]
OPENERS = ["In practice,", "At the same time,", "For this reason,", "In most cases,",
           "Over the decade,", "By contrast,", "As a result,", "In the first place,",
           "Taken together,", "Seen from below,"]

# --- people and publishers ----------------------------------------------------------------

# (family, slug for keys, non-dropping particle)
FAMILIES = [
    ("Smith", "smith", None), ("Johnson", "johnson", None), ("Brown", "brown", None),
    ("Taylor", "taylor", None), ("Wilson", "wilson", None), ("Walker", "walker", None),
    ("Robinson", "robinson", None), ("Clarke", "clarke", None), ("Hughes", "hughes", None),
    ("Edwards", "edwards", None), ("Green", "green", None), ("Hall", "hall", None),
    ("Wood", "wood", None), ("Harris", "harris", None), ("Martin", "martin", None),
    ("Jackson", "jackson", None), ("Thompson", "thompson", None), ("White", "white", None),
    ("Lewis", "lewis", None), ("Morgan", "morgan", None), ("Cooper", "cooper", None),
    ("Bennett", "bennett", None), ("Murray", "murray", None), ("Price", "price", None),
    ("Okafor", "okafor", None), ("Chen", "chen", None), ("Tanaka", "tanaka", None),
    ("Kowalski", "kowalski", None), ("Rossi", "rossi", None), ("Silva", "silva", None),
    ("Dubois", "dubois", None), ("Novak", "novak", None), ("Karimova", "karimova", None),
    ("Aben", "aben", None), ("García", "garcia", None), ("Müller", "muller", None),
    ("Nguyen", "nguyen", None), ("Patel", "patel", None), ("O'Neill", "oneill", None),
    ("Berg", "vandenberg", "van den"), ("Meer", "vandermeer", "van der"),
    ("Costa", "dacosta", "da"), ("Иванов", "ivanov", None), ("Сейткали", "seitkali", None),
]
GIVEN = """Anna John Li Maria Peter Aigerim Tomas Sara David Emma James Olga Wei Ana
Daniel Laura Michael Fatima Henrik Ingrid Kofi Yuki Pablo Chloe Samuel Nadia Omar
Helen Arman Zhanna Robert Elena""".split()

CORPORATE = [
    ("World Health Organization", "who"), ("Regional Water Council", "rwc"),
    ("Organisation for Economic Co-operation and Development", "oecd"),
    ("Ministry of Energy", "moe"), ("United Nations Development Programme", "undp"),
    ("European Environment Agency", "eea"), ("National Statistics Office", "nso"),
    ("International Energy Agency", "iea"),
]
PUBLISHERS = [("Oxford University Press", "Oxford"), ("Cambridge University Press", "Cambridge"),
              ("Routledge", "London"), ("Steppe Institute Press", "Almaty"),
              ("Meridian Academic", "London"), ("University of Chicago Press", "Chicago"),
              ("Springer", "Cham"), ("Polity", "Cambridge"), ("MIT Press", "Cambridge, MA")]
UNIVERSITIES = ["University of Leeds", "Nazarbayev University", "Columbia University",
                "University of Amsterdam", "Kyoto University", "University of Toronto"]
JOURNALS = ["Journal of Regional Studies", "Water Policy Review", "Central Asian Survey",
            "Economic History Quarterly", "Urban Affairs", "Energy and Society",
            "Comparative Politics Today", "Journal of Development Studies",
            "Environmental History", "Public Administration Review"]
NEWSPAPERS = ["The Daily Courier", "The Morning Herald", "Steppe Times", "The Observer Weekly"]
MAGAZINES = ["The Economist Monthly", "Policy Digest", "Geography Now"]
CONFERENCES = ["Annual Conference on Water and Cities", "International Symposium on Energy Policy",
               "Workshop on Regional Development"]


class Writer:
    """Prose, citations and references from one seeded random generator."""

    def __init__(self, size: Size, seed: int):
        self.size = size
        self.rng = random.Random(seed)
        self.refs: list[dict] = []
        self.keys: list[str] = []
        self.uncited: list[str] = []
        self.cluster_count = 0
        self.cite_count = 0
        self.words = 0
        self.notes = 0

    # --- references -----------------------------------------------------------------------

    def person(self) -> dict:
        family, _slug, particle = self.rng.choice(FAMILIES)
        name = {"family": family, "given": self.rng.choice(GIVEN)}
        if particle:
            name["non-dropping-particle"] = particle
        return name

    def title(self, low: int = 4, high: int = 10) -> str:
        words = [self.rng.choice(ADJECTIVES if i % 3 == 0 else NOUNS)
                 for i in range(self.rng.randint(low, high))]
        text = " ".join(words)
        if self.rng.random() < 0.4:
            text += ": " + self.rng.choice(["a study of", "the case of", "evidence from",
                                            "lessons from"]) + " " + self.rng.choice(PLACES)
        return text[0].upper() + text[1:]

    def make_references(self) -> None:
        rng = self.rng
        used: dict[str, int] = {}
        types = (["article-journal"] * 6 + ["book"] * 4 + ["chapter"] * 3 + ["report"] * 3
                 + ["webpage"] * 2 + ["thesis", "paper-conference", "paper-conference",
                                      "article-newspaper", "article-magazine", "dataset"])
        for n in range(self.size.refs):
            kind = rng.choice(types)
            item: dict = {"type": kind}
            corporate = kind in ("report", "webpage", "dataset") and rng.random() < 0.6
            if self.refs and rng.random() < 0.08:
                # same author(s), same year as an earlier work: year suffixes a, b, ...
                twin = rng.choice(self.refs)
                names = {k: twin[k] for k in ("author",) if k in twin}
                item.update(json.loads(json.dumps(names)))
                if "issued" in twin:
                    item["issued"] = {"date-parts": [[twin["issued"]["date-parts"][0][0]]]}
                if "author" not in item:
                    item["author"] = [self.person()]
            elif corporate:
                name, _ = rng.choice(CORPORATE)
                item["author"] = [{"literal": name}]
            elif kind == "book" and rng.random() < 0.2:
                item["editor"] = [self.person() for _ in range(rng.choice([1, 2, 2, 3]))]
            else:
                count = rng.choice([1, 1, 1, 2, 2, 3, 4, 7])
                item["author"] = [self.person() for _ in range(count)]
            if "issued" not in item and rng.random() > 0.05:  # about 5% have no date
                year = rng.randint(1975, 2024)
                parts = [year]
                if (kind in ("article-newspaper", "article-magazine", "webpage")
                        or rng.random() < 0.1):
                    parts += [rng.randint(1, 12), rng.randint(1, 28)]
                item["issued"] = {"date-parts": [parts]}
            item["title"] = self.title()
            self.fill(item, kind, n)
            key = self.key_for(item, used)
            self.refs.append({"id": key, **item})
            self.keys.append(key)
        self.uncited = list(self.keys)
        rng.shuffle(self.uncited)

    def fill(self, item: dict, kind: str, n: int) -> None:
        rng = self.rng
        publisher, place = rng.choice(PUBLISHERS)
        if kind == "article-journal":
            item.update({"container-title": rng.choice(JOURNALS), "volume": str(rng.randint(1, 60)),
                         "issue": str(rng.randint(1, 6))})
            first = rng.randint(1, 400)
            item["page"] = f"{first}-{first + rng.randint(5, 40)}"
            if rng.random() < 0.6:
                item["DOI"] = f"10.5555/bench.{n:05d}"
        elif kind == "book":
            item.update({"publisher": publisher, "publisher-place": place})
            if rng.random() < 0.2:
                item["edition"] = str(rng.randint(2, 5))
        elif kind == "chapter":
            item.update({"container-title": self.title(3, 6), "publisher": publisher,
                         "publisher-place": place,
                         "editor": [self.person() for _ in range(rng.choice([1, 2]))]})
            first = rng.randint(1, 300)
            item["page"] = f"{first}-{first + rng.randint(10, 30)}"
        elif kind == "report":
            corp = item.get("author", [{}])[0].get("literal")
            item.update({"publisher": corp or publisher,
                         "number": f"{rng.randint(1, 40)}/{rng.randint(1, 9)}"})
            if not corp:
                item["publisher-place"] = place
        elif kind == "webpage":
            item.update({"URL": f"https://example.org/bench/{n}",
                         "accessed": {"date-parts": [[2024, rng.randint(1, 12),
                                                      rng.randint(1, 28)]]},
                         "container-title": rng.choice(["Policy Portal", "Open Data Hub",
                                                        "News Archive"])})
        elif kind == "thesis":
            item.update({"genre": rng.choice(["PhD thesis", "Master's thesis"]),
                         "publisher": rng.choice(UNIVERSITIES)})
        elif kind == "paper-conference":
            item.update({"container-title": "Proceedings of the " + rng.choice(CONFERENCES),
                         "event-title": rng.choice(CONFERENCES), "publisher": publisher,
                         "publisher-place": place})
            first = rng.randint(1, 200)
            item["page"] = f"{first}-{first + rng.randint(4, 12)}"
        elif kind == "article-newspaper":
            item["container-title"] = rng.choice(NEWSPAPERS)
            if rng.random() < 0.5:
                item["URL"] = f"https://news.example.org/{n}"
        elif kind == "article-magazine":
            item.update({"container-title": rng.choice(MAGAZINES),
                         "volume": str(rng.randint(1, 30))})
        elif kind == "dataset":
            item.update({"publisher": item.get("author", [{}])[0].get("literal") or publisher,
                         "DOI": f"10.5555/data.{n:05d}", "version": f"{rng.randint(1, 4)}.0"})

    def key_for(self, item: dict, used: dict[str, int]) -> str:
        names = item.get("author") or item.get("editor") or []
        first = names[0] if names else {}
        if "literal" in first:
            slug = next(s for name, s in CORPORATE if name == first["literal"])
        else:
            slug = next(s for fam, s, p in FAMILIES
                        if fam == first.get("family") and p == first.get("non-dropping-particle"))
        year = str(item["issued"]["date-parts"][0][0]) if "issued" in item else "nd"
        base = f"{slug}{year}"
        used[base] = used.get(base, 0) + 1
        return base if used[base] == 1 else f"{base}{'abcdefghijklmnopqrstuvwxyz'[used[base] - 1]}"

    # --- citations ------------------------------------------------------------------------

    def key(self) -> str:
        """Every reference cited at least once; then a few references cited often."""
        if self.uncited:
            return self.uncited.pop()
        if self.rng.random() < 0.4:
            return self.keys[int(len(self.keys) * self.rng.random() ** 3)]
        return self.rng.choice(self.keys)

    def locator(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            return f"p. {rng.randint(1, 400)}"
        if roll < 0.75:
            first = rng.randint(1, 390)
            return f"pp. {first}-{first + rng.randint(1, 9)}"
        return rng.choice([f"chap. {rng.randint(1, 12)}",
                           f"sec. {rng.randint(1, 9)}.{rng.randint(1, 5)}",
                           f"para. {rng.randint(1, 40)}", f"fig. {rng.randint(1, 9)}"])

    def cluster(self) -> str:
        """A bracketed citation: one to three cites, prefixes and locators."""
        rng = self.rng
        count = rng.choice([1, 1, 1, 1, 2, 2, 3])
        keys = list(dict.fromkeys(self.key() for _ in range(count)))
        parts = []
        for i, key in enumerate(keys):
            prefix = ""
            if i == 0 and rng.random() < 0.15:
                prefix = rng.choice(["see ", "cf. ", "see also "])
            suppress = "-" if count == 1 and rng.random() < 0.06 else ""
            loc = f", {self.locator()}" if rng.random() < 0.35 else ""
            parts.append(f"{prefix}{suppress}@{key}{loc}")
        self.cluster_count += 1
        self.cite_count += len(keys)
        return "[" + "; ".join(parts) + "]"

    def narrative(self) -> str:
        key = self.key()
        self.cluster_count += 1
        self.cite_count += 1
        if self.rng.random() < 0.3:
            return f"@{key} [{self.locator()}]"
        return f"@{key}"

    # --- prose ----------------------------------------------------------------------------

    def noun_phrase(self) -> str:
        rng = self.rng
        det = rng.choice(["the", "the", "a", "this", "every", "each", "their", "its"])
        adj = rng.choice(ADJECTIVES) + " " if rng.random() < 0.5 else ""
        noun = rng.choice(NOUNS)
        if det in ("a",) and (adj or noun)[0] in "aeiou":
            det = "an"
        phrase = f"{det} {adj}{noun}"
        if rng.random() < 0.25:
            phrase += f" of the {rng.choice(NOUNS)}"
        return phrase

    def clause(self) -> str:
        rng = self.rng
        text = f"{self.noun_phrase()} {rng.choice(ADVERBS) + ' ' if rng.random() < 0.2 else ''}" \
               f"{rng.choice(VERBS)} {self.noun_phrase()}"
        if rng.random() < 0.4:
            text += f" {rng.choice(PREPOSITIONS)} {rng.choice(PLACES)}"
        return text

    def sentence(self, cite_rate: float) -> str:
        rng = self.rng
        if cite_rate:  # kept near the book's citation density, ahead or behind
            expected = self.size.citations * self.words / self.size.words
            if self.cluster_count > expected + 1:
                cite_rate = 0.0
            elif self.cluster_count < expected - 2:
                cite_rate = 1.0
        if rng.random() < cite_rate * 0.18:
            lead = rng.choice(["As {} shows,", "According to {},", "Following {},",
                               "{} argues that", "In the account of {},"])
            body = lead.format(self.narrative()) + " " + self.clause()
        else:
            body = self.clause()
            if rng.random() < 0.15:
                body = rng.choice(OPENERS) + " " + body
        if rng.random() < 0.35:
            body += rng.choice(CONNECTIVES) + " " + self.clause()
        if rng.random() < 0.05:
            word = rng.choice(NOUNS)
            body = body.replace(f" {word}", f" *{word}*", 1)
        self.words += len(body.split())
        body = body[0].upper() + body[1:]
        if rng.random() < cite_rate * 0.82:
            body += " " + self.cluster()
        return body + "."

    def paragraph(self, cite_rate: float, sentences: tuple[int, int] = (3, 7)) -> str:
        return " ".join(self.sentence(cite_rate) for _ in range(self.rng.randint(*sentences)))

    def heading_text(self) -> str:
        text = (f"{self.rng.choice(ADJECTIVES)} {self.rng.choice(NOUNS)}s"
                f" and {self.rng.choice(NOUNS)}s")
        self.words += len(text.split())
        return text[0].upper() + text[1:]

    # --- blocks ---------------------------------------------------------------------------

    def bullet_list(self, cite_rate: float) -> str:
        rng = self.rng
        ordered = rng.random() < 0.4
        lines = []
        for i in range(rng.randint(3, 6)):
            mark = f"{i + 1}." if ordered else "-"
            lines.append(f"{mark} {self.sentence(cite_rate / 2)}")
            if rng.random() < 0.2:
                for _ in range(rng.randint(2, 3)):
                    lines.append(f"    - {self.sentence(0)}")
        return "\n".join(lines)

    def table(self) -> str:
        rng = self.rng
        cols = rng.randint(3, 5)
        head = ["Region"] + [rng.choice(["Share (%)", "Volume", "Price", "Growth", "Count",
                                         "Rate", "Index"]) for _ in range(cols - 1)]
        lines = ["| " + " | ".join(head) + " |",
                 "|:" + "-" * 10 + "|" + "|".join("-" * 9 + ":" for _ in range(cols - 1)) + "|"]
        for _ in range(rng.randint(3, 8)):
            row = [rng.choice(PLACES)[4:].capitalize()]
            row += [f"{rng.randint(1, 9999):,}" if rng.random() < 0.5
                    else f"{rng.uniform(0, 100):.1f}"
                    for _ in range(cols - 1)]
            lines.append("| " + " | ".join(row) + " |")
        self.words += 4 * len(lines)
        intro = f"The table gives the figures for {rng.choice(PLACES)} {self.cluster()}."
        self.words += 6
        return intro + "\n\n" + "\n".join(lines)

    def quote(self, cite_rate: float) -> str:
        text = self.paragraph(0, (2, 4))
        attribution = f"> --- quoted in {self.narrative()}" if self.rng.random() < 0.5 \
            else f"> {self.cluster()}"
        return "> " + text + "\n>\n" + attribution

    def chapter(self, number: int, words: int, cite_rate: float) -> str:
        """Headings, paragraphs (some with footnotes), lists, tables and quotes.

        Every chapter gets at least one list, table, block quote and footnote, each
        at a random point of the chapter; more come at random.
        """
        rng = self.rng
        start = self.words
        blocks = [f"# {self.heading_text()}"]
        notes: list[str] = []
        sections = 0
        due = {kind: rng.uniform(0.1, 0.9) for kind in ("list", "table", "quote", "note")}
        while self.words - start < words:
            progress = (self.words - start) / words
            forced = next((kind for kind, at in due.items() if progress >= at), None)
            after_heading = blocks[-1].startswith("#")
            roll = 1.0 if after_heading or forced else rng.random()
            kind = forced or ("h3" if roll < 0.05 and sections else "h2" if roll < 0.10
                              else "list" if roll < 0.15 else "table" if roll < 0.18
                              else "quote" if roll < 0.22 else "para")
            if sections == 0 and len(blocks) > 2 and not after_heading:
                kind = "h2"
            due.pop(kind, None)
            if kind == "h3":
                blocks.append(f"### {self.heading_text()}")
            elif kind == "h2":
                sections += 1
                blocks.append(f"## {self.heading_text()}")
            elif kind == "list":
                blocks.append(self.bullet_list(cite_rate))
            elif kind == "table":
                blocks.append(self.table())
            elif kind == "quote":
                blocks.append(self.quote(cite_rate))
            else:
                para = self.paragraph(cite_rate)
                if kind == "note" or rng.random() < 0.25:
                    due.pop("note", None)
                    self.notes += 1
                    label = f"c{number:02d}n{self.notes}"
                    para = para[:-1] + f".[^{label}]"
                    note = self.paragraph(cite_rate * 2, (1, 3))
                    if rng.random() < 0.2:
                        note += "\n\n    " + self.paragraph(0, (1, 2))
                    notes.append(f"[^{label}]: {note}")
                elif rng.random() < 0.08:
                    para = para[:-1] + ".^[" + self.sentence(cite_rate * 2)[:-1] + ".]"
                blocks.append(para)
        return "\n\n".join(blocks + notes) + "\n"

    def book(self) -> dict[str, str]:
        """Relative path -> file content."""
        self.make_references()
        size = self.size
        sentences = size.words / 10  # sentences are 14-15 words; held to the target in sentence()
        cite_rate = min(1.0, size.citations / sentences)
        weights = [self.rng.uniform(0.7, 1.3) for _ in range(size.chapters)]
        files: dict[str, str] = {}
        names = []
        for n, weight in enumerate(weights, 1):
            target = size.words * weight / sum(weights)
            name = f"{n:02d}-chapter.md"
            names.append(name)
            files[f"book/{name}"] = self.chapter(n, int(target), cite_rate)
        def full_name(p: dict) -> str:
            particle = p.get("non-dropping-particle")
            return f"{p['given']} {particle + ' ' if particle else ''}{p['family']}"

        authors = [full_name(p) for p in (self.person() for _ in range(2))]
        yml = [
            "# A synthetic book made by bench/book.py for the benchmark; the text is generated.",
            f'title: "A Synthetic Book of {size.words:,} Words"',
            f'subtitle: "{size.chapters} chapters, {size.refs:,} references"',
            "author:",
            *[f'  - name: "{a}"' for a in authors],
            "date: 2024-01-01",
            "lang: en",
            "publisher: Bench Press",
            'description: "Generated text for timing the build; it means nothing."',
            "bibliography: ../bibliography/references.json",
            "chapters:",
            *[f"  - {name}" for name in names],
        ]
        files["book/book.yml"] = "\n".join(yml) + "\n"
        files["bibliography/references.json"] = json.dumps(
            self.refs, ensure_ascii=False, indent=1) + "\n"
        return files


def generate(size: Size, seed: int) -> tuple[dict[str, str], dict[str, int]]:
    writer = Writer(size, seed)
    files = writer.book()
    stats = {"words": writer.words, "chapters": size.chapters, "references": len(writer.refs),
             "citations": writer.cluster_count, "cites": writer.cite_count,
             "footnotes": writer.notes}
    return files, stats


def write(files: dict[str, str], out: Path) -> None:
    book = out / "book"
    if book.is_dir():  # chapters of an earlier, bigger book would be left behind
        for old in book.glob("[0-9][0-9]-chapter.md"):
            old.unlink()
    for rel, text in files.items():
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


def size_from_args(args: argparse.Namespace) -> Size:
    base = SIZES[args.size]
    return Size(words=args.words or base.words, chapters=args.chapters or base.chapters,
                refs=args.refs or base.refs, citations=args.citations or base.citations)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="the project folder to write")
    parser.add_argument("--words", type=int, help="override the size's word count")
    parser.add_argument("--chapters", type=int)
    parser.add_argument("--refs", type=int)
    parser.add_argument("--citations", type=int, help="citation clusters in the text")
    args = parser.parse_args(argv)
    files, stats = generate(size_from_args(args), args.seed)
    write(files, args.out)
    print(f"{args.out}: " + ", ".join(f"{v:,} {k}" for k, v in stats.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
