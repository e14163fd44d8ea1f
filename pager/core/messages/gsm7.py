"""The GSM 03.38 7-bit SMS alphabet: membership, length, segments, and a sanitiser.

An SMS segment holds 160 septets of GSM-7 text, or 70 UTF-16 code units once any
character is outside GSM-7. Characters of the extension table (``^ { } \\ [ ~ ] | €``)
are GSM-7 but take two septets (an escape plus the character). Concatenated messages
spend part of each segment on a header: 153 septets or 67 UTF-16 units per segment, and
neither an escape pair nor a surrogate pair is split between segments.
"""

from __future__ import annotations

import unicodedata

SINGLE_SEGMENT_SEPTETS = 160
MULTI_SEGMENT_SEPTETS = 153
SINGLE_SEGMENT_UCS2 = 70
MULTI_SEGMENT_UCS2 = 67

#: The basic character set (without the escape code 0x1B itself).
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: each costs two septets.
EXTENDED = frozenset("\f^{}\\[~]|€")
#: Every GSM-7 character (set operations on whole strings are the fast path).
_ALL = BASIC | EXTENDED

# Close GSM-7 stand-ins for common characters outside the alphabet (typographic
# punctuation from word processors, letters that do not decompose).
_REPLACEMENTS: dict[str, str] = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "´": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "«": '"',
    "»": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-",
    "\u2026": "...", "\u2022": "*", "·": ".", "×": "x", "÷": "/", "©": "(c)", "®": "(R)",
    "™": "TM", "°": "o", "¢": "c", "\t": " ", "\u00a0": " ",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th",
    "œ": "oe", "Œ": "OE", "ı": "i", "ŀ": "l", "Ŀ": "L", "ħ": "h", "Ħ": "H",
}  # fmt: skip

# Cyrillic, transliterated (a name stays readable rather than turning into '?').
_CYRILLIC_LATIN = (
    "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch - y - e yu ya i ye yi g u"
)
_CYRILLIC = dict(
    zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяієїґў", _CYRILLIC_LATIN.split(" "), strict=True)
)


def is_gsm7(text: str) -> bool:
    """True when every character of ``text`` is in the GSM-7 alphabet (basic or extended)."""
    return _ALL.issuperset(text)


def septets(text: str) -> int:
    """Length of GSM-7 ``text`` in septets (extended characters count twice).

    Raises ``ValueError`` if ``text`` is not GSM-7.
    """
    if BASIC.issuperset(text):
        return len(text)
    total = 0
    for ch in text:
        if ch in BASIC:
            total += 1
        elif ch in EXTENDED:
            total += 2
        else:
            raise ValueError(f"{ch!r} is not GSM-7")
    return total


def _pack(sizes: list[int], capacity: int) -> int:
    """Segments needed for units of ``sizes`` when no unit may be split."""
    segments, used = 1, 0
    for size in sizes:
        if used + size > capacity:
            segments += 1
            used = 0
        used += size
    return segments


def sms_segments(text: str) -> int:
    """How many SMS segments ``text`` is sent as (an empty text is still one message)."""
    if is_gsm7(text):
        sizes = [2 if ch in EXTENDED else 1 for ch in text]
        single, multi = SINGLE_SEGMENT_SEPTETS, MULTI_SEGMENT_SEPTETS
    else:
        sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
        single, multi = SINGLE_SEGMENT_UCS2, MULTI_SEGMENT_UCS2
    if sum(sizes) <= single:
        return 1
    return _pack(sizes, multi)


def _sanitise_char(ch: str) -> str:
    if ch in BASIC or ch in EXTENDED:
        return ch
    if ch in _REPLACEMENTS:
        return _REPLACEMENTS[ch]
    lower = ch.lower()
    if lower in _CYRILLIC:
        latin = _CYRILLIC[lower]
        if latin == "-":
            return ""  # hard and soft signs have no sound of their own
        return latin.capitalize() if ch != lower else latin
    if ch.isspace() or unicodedata.category(ch).startswith("C"):
        return " "
    # Accented Latin letters: drop the accents (ș -> s, ă -> a, Č -> C).
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if base and is_gsm7(base):
        return base
    return "?"


def to_gsm7(text: str) -> str:
    """``text`` with every character outside GSM-7 replaced by a close GSM-7 equivalent
    (typographic quotes and dashes, ``…`` -> ``...``, accents dropped, Cyrillic
    transliterated) or ``?``; whitespace runs (including newlines) become one space.
    """
    out = text if BASIC.issuperset(text) else "".join(_sanitise_char(ch) for ch in text)
    return " ".join(out.split())
