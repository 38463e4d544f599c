"""What kind of answer a question wants, and the spans of a sentence that could be one.

A question that asks for a number, amount, date, person, place or organisation gets a short span;
every other question is answered with the whole sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NUMBER, DATE, PERSON, PLACE, ENTITY = "number", "date", "person", "place", "entity"

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t(?:ember)?)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen"
    r"|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|dozen"
    r"|several|hundreds|thousands|millions|billions|half|a few|a dozen)"
)
_SCALE = r"(?:\s(?:hundred|thousand|million|billion|trillion|bn|m|k)\b)?"
_NUM = r"(?:\d+(?:[.,]\d+)*|" + _NUMBER_WORDS + r")"

_PATTERNS = {
    DATE: re.compile(
        r"\b(?:"
        + _MONTHS + r"\s\d{1,2}(?:st|nd|rd|th)?(?:,?\s\d{4})?"  # November 10, 2025
        + r"|\d{1,2}(?:st|nd|rd|th)?\s" + _MONTHS + r"(?:,?\s\d{4})?"  # 10 November 2025
        + r"|" + _MONTHS + r"\s\d{4}"  # November 2024
        + r"|(?:early|mid|late)-?\s?\d{3,4}s"
        + r"|\d{1,2}(?:st|nd|rd|th)\s(?:century|millennium)(?:\s(?:BC|AD|BCE|CE))?"
        + r"|\d{3,4}s?(?:\s(?:BC|AD|BCE|CE))?"  # 2022, 1990s
        + r")\b"
    ),
    NUMBER: re.compile(
        r"(?:[$€£¥]\s?\d+(?:[.,]\d+)*" + _SCALE + r"|\b" + _NUM + _SCALE
        + r"(?:\s?(?:%|percent|per cent|(?:US\s)?dollars|euros|pounds|yen))?)"
        + r"(?:\s(?:(?:square|cubic)\s)?(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|miles?|kilometers?"
        + r"|kilometres?|km|meters?|metres?|feet|foot|inches|tons?|tonnes?|kg|pounds|acres|hectares|degrees|mph"
        + r"|people|times|members|students|percent))?",
        re.IGNORECASE,
    ),
    # Capitalised names, allowing short joining words: "Ukraine Mine Action Conference", "Bank of Japan".
    ENTITY: re.compile(
        r"\b[A-Z][\w’'&.-]*(?:\s(?:(?:of|the|de|du|del|da|von|van|der|and|for|on|la|le|al|bin)\s)*[A-Z][\w’'&.-]*)*"
    ),
}

_QUESTION_TYPES = [
    (re.compile(r"\b(how (much|many|long|far|old|large|big|tall|high|often|fast|heavy)|what (percentage|percent|"
                r"proportion|number|amount|share|fraction)|what was the (cost|price|population|size))\b", re.I), NUMBER),
    (re.compile(r"\b(when|what (year|date|day|month|decade|century|time|period)|which (year|date|day|month|decade|"
                r"century)|in what (year|decade|century|month))\b", re.I), DATE),
    (re.compile(r"\b(who|whom|whose|which (person|man|woman|leader|president|minister|king|queen|author|writer)|"
                r"what (person|man|woman)|name of the (person|man|woman|leader))\b", re.I), PERSON),
    (re.compile(r"\b(where|what (country|city|state|place|region|town|continent|island|location)|which (country|"
                r"city|state|place|region|town|continent|island|location)|in what (country|city|state|region))\b",
                re.I), PLACE),
    (re.compile(r"\b(which|what (organi[sz]ation|company|group|team|party|agency|university|institution|"
                r"body|conference|initiative|treaty|coalition))\b", re.I), ENTITY),
]


def question_type(question: str) -> str | None:
    for pattern, kind in _QUESTION_TYPES:
        if pattern.search(question):
            return kind
    return None


@dataclass(frozen=True)
class TypedSpan:
    start: int  # relative to the sentence
    end: int
    kind: str


_LEADING_WORDS = {"the", "a", "an", "in", "on", "at", "since", "by", "for", "from", "of", "to", "and", "but", "or",
                  "it", "this", "that", "these", "those", "he", "she", "they", "we", "its", "his", "her", "their",
                  "after", "before", "during", "while", "when", "although", "though", "however", "as", "with"}


def candidates(sentence: str, kind: str) -> list[TypedSpan]:
    """Spans of ``sentence`` that could answer a question of this kind."""
    patterns = {NUMBER: [NUMBER], DATE: [DATE], PERSON: [ENTITY], PLACE: [ENTITY], ENTITY: [ENTITY]}[kind]
    found = []
    for name in patterns:
        for m in _PATTERNS[name].finditer(sentence):
            start, end = m.start(), m.end()
            text = sentence[start:end].rstrip(".,;:’'")
            end = start + len(text)
            if name == ENTITY:
                first = text.split(" ", 1)[0]
                if first.lower() in _LEADING_WORDS:  # a capitalised function word opening the sentence
                    rest = text[len(first):].lstrip()
                    if not rest:
                        continue
                    start, text = end - len(rest), rest
                text = re.sub(r"(’s|'s)$", "", text)
                end = start + len(text)
            if name == ENTITY and start == 0 and " " not in text:
                continue  # one capitalised word opening the sentence says nothing ("Most", "According")
            if end > start:
                found.append(TypedSpan(start, end, name if kind != name and name != ENTITY else kind))
    if kind == NUMBER:  # years are rarely amounts
        found = [c for c in found if not re.fullmatch(r"(1[5-9]|20)\d\d", sentence[c.start:c.end])] or found
    return found


_CUES = {
    PLACE: re.compile(r"\b(?:in|at|from|near|to|across|throughout|outside|inside|into|of)\s+(?:the\s+)?$", re.I),
    DATE: re.compile(r"\b(?:in|on|since|by|during|until|from|before|after|of)\s+(?:the\s+)?$", re.I),
}


def cued(sentence: str, start: int, kind: str) -> bool:
    """True where the words just before ``start`` announce a span of this kind ("in Paris", "since 2022")."""
    cue = _CUES.get(kind)
    return bool(cue and cue.search(sentence, max(0, start - 20), start))
