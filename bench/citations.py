"""Benchmark: citation processing of 2,000 citations of 1,000 references.

    python bench/citations.py [--style apa] [--refs 1000] [--cites 2000] [--notes]
                              [--digest] [--dump FILE]

Prints the time to register and render every citation and the bibliography
(the target of issue 3: under 2 s), and this process's CPU time: with two cores
a forked child shares the rendering (builder/processes.py), so the wall time is
below the CPU time of both; ``BUILDER_NO_FORK=1`` keeps it all in this process.
Deterministic: the references and
citations come from a seeded generator, so ``--digest`` (a sha256 of all the
output) must not change when only the speed of the engine does.
"""
from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from builder.citations import load_style  # noqa: E402
from builder.citations.engine import Cite, Processor  # noqa: E402

FAMILIES = ["Smith", "Jones", "Aben", "Nazarbayev", "García", "van der Berg", "Иванов",
            "Müller", "Chen", "Okafor", "Dubois", "Kowalski", "Rossi", "Tanaka", "Silva"]
GIVEN = ["Anna", "Li", "John", "Dauren", "María", "Pieter", "Сергей", "Jürgen", "Wei"]
TYPES = ["article-journal", "book", "chapter", "report", "webpage", "thesis", "paper-conference"]


def references(n: int, rng: random.Random) -> list[dict]:
    items = []
    for i in range(n):
        authors = [{"family": rng.choice(FAMILIES), "given": rng.choice(GIVEN)}
                   for _ in range(rng.choice([1, 1, 2, 3, 4, 8]))]
        kind = rng.choice(TYPES)
        item = {"id": f"ref{i}", "type": kind, "author": authors,
                "title": f"Study number {i} of {rng.choice(['trade', 'security', 'energy'])}",
                "issued": {"date-parts": [[rng.randint(1990, 2024)]]}}
        if kind == "article-journal":
            item.update({"container-title": "Journal of Studies", "volume": str(rng.randint(1, 80)),
                         "page": f"{rng.randint(1, 400)}-{rng.randint(401, 800)}"})
        elif kind in ("book", "report", "thesis"):
            item["publisher"] = rng.choice(["Astana Press", "Oxford University Press"])
        elif kind == "webpage":
            item.update({"URL": f"https://example.org/{i}",
                         "accessed": {"date-parts": [[2024, 1, 5]]}})
        items.append(item)
    return items


def clusters(n: int, refs: int, rng: random.Random) -> list[list[Cite]]:
    made = []
    for i in range(n):
        size = rng.choice([1, 1, 1, 2, 3])
        keys = (rng.sample(range(refs), size) if i >= refs
                else [i] + rng.sample(range(refs), size - 1))
        made.append([Cite(f"ref{k}",
                          locator=str(rng.randint(1, 300)) if rng.random() < 0.3 else None,
                          label="page") for k in dict.fromkeys(keys)])
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--style", default="apa")
    parser.add_argument("--refs", type=int, default=1000)
    parser.add_argument("--cites", type=int, default=2000)
    parser.add_argument("--notes", action="store_true",
                        help="citations in footnotes, two to a note (positions: ibid, near-note)")
    parser.add_argument("--digest", action="store_true",
                        help="also print a sha256 of every rendered citation and entry "
                             "(to check that an optimisation changes no output)")
    parser.add_argument("--dump", metavar="FILE", help="write every citation and entry to FILE")
    args = parser.parse_args()
    rng = random.Random(7)
    items, cites = references(args.refs, rng), clusters(args.cites, args.refs, rng)
    style = load_style(args.style)
    start, cpu = time.perf_counter(), time.process_time()
    notes = [1 + n // 2 for n in range(len(cites))] if args.notes else None
    output = Processor(style.xml, items, link_cites=True).render(cites, notes)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{args.style}: {len(cites)} citations of {len(items)} references, "
          f"{len(output.bibliography)} entries in {elapsed:.2f} s (cpu of this process "
          f"{cpu:.2f} s)")
    if args.digest:
        digest = hashlib.sha256()
        for text in output.citations:
            digest.update(text.encode() + b"\n")
        for key, entry in output.bibliography:
            digest.update(f"{key}\t{entry}\n".encode())
        print(f"digest {digest.hexdigest()}")
    if args.dump:
        Path(args.dump).write_text("".join(f"{text}\n" for text in output.citations) + "".join(
            f"{key}\t{entry}\n" for key, entry in output.bibliography), encoding="utf-8")


if __name__ == "__main__":
    main()
