"""A deterministic synthetic newsroom: N articles over 12 sections and 40 topics.

Each article has 1–4 topics, 600–1,200 words of Markdown with links,
emphasis and quotes, a lead image with caption and credit on about half,
and a publication date over ten years, written in one of several zones (or
none). The same N and seed always give the same bytes.

    python benchmarks/corpus.py OUT_DIR N [--seed S] [--edit PERCENT]

`--edit` rewrites PERCENT % of an existing corpus's articles (a new
paragraph and an `updated` date), as an editor would.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

SECTIONS = [
    "Trans-Pacific View", "The Debate", "Flashpoints", "China Power", "The Koreas",
    "Tokyo Report", "ASEAN Beat", "The Pulse", "Crossroads Asia", "Oceania",
    "Security", "Economy",
]  # fmt: skip
TOPICS = [
    "Diplomacy", "Security", "East Asia", "South Asia", "Southeast Asia", "Central Asia",
    "Oceania", "Politics", "Economy", "Environment", "Society", "Military", "Trade",
    "Energy", "Technology", "Human Rights", "Elections", "Climate", "Health", "Culture",
    "Maritime", "Nuclear", "Terrorism", "Migration", "Development", "Finance",
    "Infrastructure", "Cybersecurity", "Space", "Agriculture", "Education", "Media",
    "Religion", "Law", "Labor", "Water", "Tourism", "Sport", "Arctic", "Pacific Islands",
]  # fmt: skip
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "on",
    "with",
    "as",
    "by",
    "at",
    "from",
    "security",
    "talks",
    "minister",
    "government",
    "region",
    "policy",
    "alliance",
    "cooperation",
    "agreement",
    "trade",
    "officials",
    "national",
    "president",
    "economic",
    "military",
    "pressure",
    "relations",
    "meeting",
    "summit",
    "defense",
    "foreign",
    "maritime",
    "islands",
    "strategy",
    "report",
    "analysts",
    "growth",
    "election",
    "parliament",
    "reform",
    "border",
    "dispute",
    "sanctions",
    "investment",
    "infrastructure",
    "climate",
    "energy",
    "market",
    "intelligence",
    "exercise",
    "navy",
    "coast",
    "guard",
    "treaty",
    "partners",
    "dialogue",
    "leaders",
]
ZONES = ["", "Z", "-04:00", "-05:00", "+09:00", "+08:00", "+05:30", "+01:00"]
AUTHORS = [
    "Ankit Panda",
    "Shannon Tiezzi",
    "Mercy Kuo",
    "Sebastian Strangio",
    "Rajeswari Rajagopalan",
]
START = datetime(2015, 1, 1)


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 22))]
    if rng.random() < 0.3:
        at = rng.randrange(len(words))
        words[at] = f"*{words[at]}*"
    if rng.random() < 0.2:
        at = rng.randrange(len(words))
        target = rng.choice(
            ["/2020/01/related-story/", "https://example.com/report", "../archive/"]
        )
        words[at] = f"[{words[at]}]({target})"
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random) -> str:
    text = " ".join(sentence(rng) for _ in range(rng.randint(3, 6)))
    return f"> {text}" if rng.random() < 0.08 else text


def body(rng: random.Random) -> str:
    target = rng.randint(600, 1200)
    paragraphs: list[str] = []
    count = 0
    while count < target:
        text = paragraph(rng)
        paragraphs.append(text)
        count += len(text.split())
    return "\n\n".join(paragraphs) + "\n"


def article(number: int, seed: int) -> tuple[str, str]:
    """The file name and text of article `number`."""
    rng = random.Random(seed * 1_000_003 + number)
    when = START + timedelta(minutes=rng.randrange(10 * 365 * 24 * 60))
    zone = rng.choice(ZONES)
    stamp = (
        when.strftime("%Y-%m-%dT%H:%M:%S") + zone
        if zone or rng.random() < 0.5
        else when.strftime("%Y-%m-%d %H:%M")
    )
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(4, 10))).title()
    slug = f"{when:%Y%m%d}-{number:06d}"
    topics = rng.sample(TOPICS, rng.randint(1, 4))
    lines = [
        "---",
        f'title: "{title} {number}"',
        f"subtitle: {json.dumps(sentence(rng), ensure_ascii=False)}" if rng.random() < 0.8 else "",
        f"section: {rng.choice(SECTIONS)}",
        f"topics: [{', '.join(topics)}]",
        f"published: {stamp}",
        f"author: {rng.choice(AUTHORS)}" if rng.random() < 0.7 else "",
    ]
    if rng.random() < 0.5:
        lines += [
            "image:",
            f"  url: /wp-content/uploads/{when:%Y/%m}/{slug}.jpg",
            f"  caption: {json.dumps(sentence(rng), ensure_ascii=False)}",
            f"  credit: {rng.choice(['Flickr/', 'AP Photo', 'Reuters', 'Wikimedia Commons'])}",
        ]
        if rng.random() < 0.5:
            lines.append(f'  length: "{rng.randint(20_000, 400_000)}"')
    lines.append("---")
    text = "\n".join(line for line in lines if line) + "\n" + body(rng)
    return f"{when:%Y}/{slug}.md", text


def generate(out: Path, count: int, seed: int = 1) -> None:
    for number in range(count):
        name, text = article(number, seed)
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def edit(out: Path, percent: float, seed: int = 1, round_: int = 1) -> list[Path]:
    """Rewrite `percent` % of the corpus's articles in place; returns the files edited."""
    files = sorted(out.rglob("*.md"))
    rng = random.Random(seed * 7919 + round_)
    chosen = rng.sample(files, max(1, round(len(files) * percent / 100)))
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        head, _, rest = text[4:].partition("\n---\n")
        head = "\n".join(line for line in head.splitlines() if not line.startswith("updated:"))
        updated = f"updated: 2025-06-{1 + round_ % 28:02d}T12:00:00Z"
        path.write_text(
            f"---\n{head}\n{updated}\n---\n{rest}Edited in round {round_}.\n", encoding="utf-8"
        )
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out", type=Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edit", type=float, default=None, metavar="PERCENT")
    arguments = parser.parse_args()
    if arguments.edit is not None:
        edited = edit(arguments.out, arguments.edit, arguments.seed)
        print(f"edited {len(edited)} articles")
    else:
        generate(arguments.out, arguments.count, arguments.seed)


if __name__ == "__main__":
    main()
