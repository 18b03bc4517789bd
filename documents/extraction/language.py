"""A language guess from function words: enough to pick a full-text search configuration."""

import re
from collections import Counter

# The most frequent short words of each language, chosen to overlap little.
_STOPWORDS = {
    "en": [
        "the",
        "and",
        "of",
        "to",
        "in",
        "is",
        "that",
        "for",
        "it",
        "with",
        "as",
        "was",
        "on",
        "are",
        "be",
        "this",
        "by",
        "not",
    ],
    "de": [
        "der",
        "die",
        "und",
        "das",
        "ist",
        "nicht",
        "mit",
        "den",
        "sich",
        "des",
        "auf",
        "für",
        "ein",
        "eine",
        "dem",
        "zu",
    ],
    "fr": [
        "le",
        "la",
        "les",
        "et",
        "des",
        "est",
        "une",
        "dans",
        "pour",
        "que",
        "qui",
        "pas",
        "sur",
        "au",
        "du",
        "ce",
        "avec",
    ],
    "es": [
        "el",
        "la",
        "los",
        "las",
        "y",
        "en",
        "que",
        "es",
        "por",
        "una",
        "con",
        "para",
        "del",
        "se",
        "como",
        "más",
        "al",
    ],
    "it": [
        "il",
        "di",
        "che",
        "la",
        "per",
        "una",
        "sono",
        "non",
        "della",
        "con",
        "del",
        "gli",
        "anche",
        "come",
        "più",
        "nel",
    ],
    "nl": [
        "de",
        "het",
        "een",
        "en",
        "van",
        "is",
        "dat",
        "niet",
        "op",
        "te",
        "zijn",
        "met",
        "voor",
        "ook",
        "aan",
        "er",
    ],
    "pt": [
        "o",
        "os",
        "as",
        "e",
        "de",
        "do",
        "da",
        "em",
        "que",
        "não",
        "uma",
        "para",
        "com",
        "por",
        "mais",
        "dos",
        "das",
    ],
}
_WORD = re.compile(r"[^\W\d_]+")
_SAMPLE_CHARS = 20_000
MIN_HITS = 5


def guess_language(text: str) -> str | None:
    """An ISO 639-1 code (en, de, fr, es, it, nl, pt), or None when unsure."""
    words = Counter(word.lower() for word in _WORD.findall(text[:_SAMPLE_CHARS]))
    scores = {
        code: sum(words[word] for word in stopwords)
        for code, stopwords in _STOPWORDS.items()
    }
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    (best, best_hits), (_, runner_up_hits) = ranked[0], ranked[1]
    if best_hits < MIN_HITS or best_hits < 1.3 * runner_up_hits:
        return None
    return best
