"""TXT, Markdown and CSV: bytes to text with charset detection; form feeds split pages."""

import charset_normalizer

from documents.extraction.errors import UnsupportedType
from documents.extraction.sniffing import text_encoding_from_bom

# Detection reads this much; a whole 50 MB file would take seconds.
_DETECTION_BYTES = 256 * 1024
# Legacy single-byte files are far more often Windows-1252 than the Central
# European or Cyrillic code pages a short Latin-1 sample can resemble.
_LATIN_FALLBACK = "cp1252"


def decode(data: bytes) -> tuple[str, str]:
    """The text of `data` and the encoding it was read with."""
    encoding = text_encoding_from_bom(data)
    if encoding is not None:
        return data.decode(encoding, errors="replace"), encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    guess = charset_normalizer.from_bytes(data[:_DETECTION_BYTES]).best()
    if guess is None:
        raise UnsupportedType("the file is binary, not text")
    encoding = guess.encoding
    if _is_single_byte_latin(data, encoding):
        encoding = _LATIN_FALLBACK
    return data.decode(encoding, errors="replace"), encoding


def _is_single_byte_latin(data: bytes, encoding: str) -> bool:
    """True if the guess is a single-byte code page and cp1252 reads the bytes as well."""
    if encoding in ("ascii", "utf_8", _LATIN_FALLBACK) or encoding.startswith(
        ("utf", "big5", "gb", "euc", "shift_jis", "cp932", "cp949", "iso2022")
    ):
        return False
    sample = data[:_DETECTION_BYTES]
    try:
        fallback = sample.decode(_LATIN_FALLBACK)
    except UnicodeDecodeError:
        return False
    # cp1252 wins when every high byte becomes a Western letter or sign.
    return all(
        char.isalpha() or char in "€£°±§©®«»–—‘’“”…·¿¡"
        for char in fallback
        if ord(char) > 127
    )


def parse(data: bytes) -> tuple[list[str], str]:
    """The pages of a text file (split at form feeds) and its encoding."""
    text, encoding = decode(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if "\x00" in text:
        raise UnsupportedType("the file is binary, not text")
    pages = [page.strip("\n") for page in text.split("\f")]
    return pages, encoding
