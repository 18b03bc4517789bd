"""Receipt fields from OCR lines: merchant, date, total, currency, line items.

Dates such as 03/04/2025 are ambiguous. The rule: a part above 12 settles
it; otherwise a dotted date (03.04.2025) is day-first, as everywhere dots
are used; otherwise `day_first` decides when the caller knows the locale;
otherwise a receipt in US dollars is month-first and any other day-first.
"""

import datetime
import re
import statistics
from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from documents.extraction import ocr

_AMOUNT = re.compile(
    r"(?<![\d.,])(?P<sign>-)?(?P<whole>\d{1,3}(?:[.,']\d{3})+|\d+)"
    r"[.,](?P<cents>\d{2})(?![\d]|[.,]\d)(?P<trailing>-)?"
)
_MONTHS = {
    "jan": 1, "januar": 1, "janv": 1, "ene": 1, "feb": 2, "febr": 2, "fev": 2,
    "mar": 3, "mär": 3, "maerz": 3, "mrz": 3, "apr": 4, "avr": 4, "abr": 4,
    "may": 5, "mai": 5, "mei": 5, "jun": 6, "juin": 6, "jul": 7, "juil": 7,
    "aug": 8, "aou": 8, "ago": 8, "sep": 9, "sept": 9, "set": 9, "oct": 10,
    "okt": 10, "nov": 11, "dec": 12, "dez": 12, "dic": 12,
}  # fmt: skip
_MONTH_WORD = r"(?P<month>[a-zäéû]{3,9})\.?"
_DATE_PATTERNS = (
    re.compile(
        r"(?<!\d)(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})(?!\d)"
    ),
    re.compile(
        r"(?<![\d.])(?P<a>\d{1,2})(?P<sep>[./-])(?P<b>\d{1,2})(?P=sep)"
        r"(?P<year>\d{4}|\d{2})(?![\d]|[.,]\d)"
    ),
    re.compile(
        rf"(?<!\d)(?P<day>\d{{1,2}})(?:st|nd|rd|th)?[\s.-]*{_MONTH_WORD}[\s,.-]*(?P<year>\d{{4}})",
        re.I,
    ),
    re.compile(
        rf"\b{_MONTH_WORD}\s*(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s*(?P<year>\d{{4}})",
        re.I,
    ),
)
_STRONG_TOTAL = re.compile(
    r"\b(?:grand\s*t[o0]tal|amount\s*due|balance\s*due|t[o0]tal\s*due|zu\s*zahlen"
    r"|t[o0]tal\s*ttc|gesamtbetrag|t[o0]tal\s*a\s*pagar|importe\s*total)\b",
    re.I,
)
_TOTAL = re.compile(
    r"\b(?:t[o0]tal|summe|gesamt|betrag|montant|importe|totale|totaal)\b", re.I
)
_NOT_TOTAL = re.compile(
    r"\b(?:sub[\s-]*t[o0]tal|zwischensumme|t[o0]tal\s*(?:tax|vat|savings?|discount|items?|qty)"
    r"|(?:items?|qty)\s*t[o0]tal|tax\s*t[o0]tal|netto)\b",
    re.I,
)
_SUBTOTAL = re.compile(r"\b(?:sub[\s-]*t[o0]tal|zwischensumme|netto)\b", re.I)
_TAX = re.compile(r"\b(?:tax|vat|mwst|ust|tva|iva|steuer)\b", re.I)
_PAYMENT = re.compile(
    r"\b(?:cash|change|tendered|card|visa|mastercard|amex|debit|credit|payment|paid"
    r"|bar|r[üu]ckgeld|gegeben|ec|girocard|tip|rounding|rundung|discount|rabatt"
    r"|savings?|balance|refund)\b",
    re.I,
)
_QUANTITY_UNIT = re.compile(
    r"(?P<qty>\d+(?:[.,]\d+)?)\s*(?:stk|pcs|pc|st)?\.?\s*[x×@*]\s*(?P<unit>\d+[.,]\d{2})",
    re.I,
)
_QUANTITY_PREFIX = re.compile(r"^(?P<qty>\d{1,2})\s*(?:[x×*]\s*|\s+(?=[^\W\d_]))", re.I)
_QUANTITY_WORD = re.compile(r"\bqty[:.]?\s*(?P<qty>\d+)\b", re.I)
_NOT_MERCHANT = re.compile(
    r"\b(?:tel|phone|fax|www|http|receipt|invoice|rechnung|quittung|kassenbon|beleg"
    r"|welcome|willkommen|thank|danke|vat|ust-?id|tax\s*id|st\.?-?nr|cashier|kasse"
    r"|table|order|street|st\.|ave|avenue|road|rd\.|str\.|stra(?:ß|ss)e|blvd|lane|platz"
    r"|weg|suite)\b|@|\.com\b|\d{4,}",
    re.I,
)
_CURRENCIES = (
    ("EUR", re.compile(r"€|\bEUR\b")),
    ("GBP", re.compile(r"£|\bGBP\b")),
    ("CHF", re.compile(r"\bCHF\b|\bSFr\b")),
    ("CAD", re.compile(r"\bCAD\b|C\$")),
    ("AUD", re.compile(r"\bAUD\b|A\$")),
    ("JPY", re.compile(r"¥|\bJPY\b")),
    ("USD", re.compile(r"\$|\bUSD\b")),
)
# OCR often drops the space in "12.01.2025 08:15".
_YEAR_TIME = re.compile(r"(?<=[./-]\d{4})(?=\d{1,2}:\d{2})")
_MERCHANT_ROWS = 5
_SUM_TOLERANCE = Decimal("0.02")


@dataclass(frozen=True)
class LineItem:
    name: str
    quantity: Decimal
    price: Decimal
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class ReceiptFields:
    """What a receipt says; `confidence` runs from 0 (nothing found) to 1."""

    merchant: str | None
    date: datetime.date | None
    total: Decimal | None
    currency: str | None
    items: tuple[LineItem, ...]
    subtotal: Decimal | None
    tax: Decimal | None
    confidence: float

    def as_dict(self) -> dict:
        """A JSON-ready dict: amounts as strings, the date in ISO format."""
        return {
            "merchant": self.merchant,
            "date": self.date.isoformat() if self.date else None,
            "total": _text(self.total),
            "currency": self.currency,
            "subtotal": _text(self.subtotal),
            "tax": _text(self.tax),
            "items": [
                {
                    "name": item.name,
                    "quantity": _text(item.quantity),
                    "price": _text(item.price),
                    "unit_price": _text(item.unit_price),
                }
                for item in self.items
            ],
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class ReceiptReading:
    """A receipt image read by OCR: its rows of text and the fields found in them.

    `rotation` is how far the image was turned counter-clockwise (0, 90, 180,
    270) to read it; `skew_degrees` the slant undone when forming rows.
    """

    fields: ReceiptFields
    lines: tuple[str, ...]
    ocr_score: float
    skew_degrees: float
    rotation: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def parse_receipt(
    lines: Iterable[str], *, day_first: bool | None = None, ocr_score: float = 1.0
) -> ReceiptFields:
    """Fields of a receipt from its text rows, top to bottom (see the module's date rule)."""
    rows = [
        _YEAR_TIME.sub(" ", " ".join(line.split())) for line in lines if line.strip()
    ]
    currency = _currency(rows)
    if day_first is None:
        day_first = currency != "USD"
    total, total_row, by_keyword = _total(rows)
    if total_row is not None and (found := _currency([rows[total_row]])):
        currency = found
    subtotal = _keyword_amount(rows, _SUBTOTAL)
    tax = _keyword_amount(rows, _TAX)
    items = _items(rows, stop=total_row)
    merchant = _merchant(rows)
    date = _date(rows, day_first=day_first)
    score = 0.2 * bool(merchant) + 0.2 * bool(date) + 0.2 * bool(items)
    if total is not None:
        score += 0.4 if by_keyword else 0.2
        items_sum = sum((item.price for item in items), Decimal(0))
        if items and any(
            abs(items_sum - amount) <= _SUM_TOLERANCE
            for amount in (total, subtotal)
            if amount
        ):
            score += 0.1
    return ReceiptFields(
        merchant=merchant,
        date=date,
        total=total,
        currency=currency,
        items=tuple(items),
        subtotal=subtotal,
        tax=tax,
        confidence=round(min(score, 1.0) * ocr_score, 3),
    )


def read_receipt(
    image: bytes | np.ndarray,
    *,
    day_first: bool | None = None,
    max_pixels: int = 40_000_000,
) -> ReceiptReading:
    """OCR a receipt photo or scan (any quarter turn, slightly slanted) and parse it."""
    if isinstance(image, bytes | bytearray):
        image = ocr.load_image(bytes(image), max_pixels=max_pixels)
    lines = ocr.recognize(image)
    rotation = 0
    # Sideways text comes back as tall boxes: read it turned either way.
    if lines and sum(_is_tall(line) for line in lines) > len(lines) / 2:
        for turns in (1, 3):
            turned = ocr.recognize(np.rot90(image, turns))
            if _strength(turned) > _strength(lines):
                lines, rotation = turned, 90 * turns
    # Upside-down text still reads, but badly: compare with a half turn.
    elif not lines or statistics.fmean(line.score for line in lines) < 0.8:
        flipped = ocr.recognize(np.rot90(image, 2))
        if _strength(flipped) > _strength(lines):
            lines, rotation = flipped, 180
    skew = ocr.skew_of(lines)
    rows = ocr.group_rows(lines, skew_degrees=skew)
    texts = tuple(" ".join(line.text for line in row) for row in rows)
    score = statistics.fmean(line.score for line in lines) if lines else 0.0
    return ReceiptReading(
        fields=parse_receipt(texts, day_first=day_first, ocr_score=score),
        lines=texts,
        ocr_score=round(score, 4),
        skew_degrees=round(skew, 2),
        rotation=rotation,
    )


def parse_amount(text: str) -> Decimal | None:
    """The last amount with two decimals in `text` ("1.234,56", "$12.50", "3,00-")."""
    matches = list(_AMOUNT.finditer(text))
    return _amount(matches[-1]) if matches else None


def _amount(match: re.Match) -> Decimal:
    whole = re.sub(r"[.,']", "", match["whole"])
    value = Decimal(f"{whole}.{match['cents']}")
    return -value if match["sign"] or match["trailing"] else value


def _is_tall(line: ocr.OcrLine) -> bool:
    return line.bottom - line.top > 1.5 * (line.right - line.left)


def _strength(lines: Sequence[ocr.OcrLine]) -> float:
    return sum(line.score * len(line.text) for line in lines)


def _currency(rows: Sequence[str]) -> str | None:
    text = "\n".join(rows)
    counts = {code: len(pattern.findall(text)) for code, pattern in _CURRENCIES}
    code, count = max(counts.items(), key=lambda item: item[1])
    return code if count else None


def _total(rows: Sequence[str]) -> tuple[Decimal | None, int | None, bool]:
    """The total, its row, and whether a keyword (not a guess) gave it."""
    for pattern in (_STRONG_TOTAL, _TOTAL):
        for index, row in enumerate(rows):
            if not pattern.search(row) or _NOT_TOTAL.search(row):
                continue
            amount = _row_amount(rows, index)
            if amount is not None:
                return amount, index, True
    candidates = [
        parse_amount(row)
        for row in rows
        if not _PAYMENT.search(row) and not _TAX.search(row)
    ]
    amounts = [amount for amount in candidates if amount is not None and amount > 0]
    return (max(amounts), None, False) if amounts else (None, None, False)


def _row_amount(rows: Sequence[str], index: int) -> Decimal | None:
    """The amount on a keyword's row, or on the next row when OCR split them."""
    amount = parse_amount(rows[index])
    if (
        amount is None
        and index + 1 < len(rows)
        and re.fullmatch(
            r"[^\w]*[\d.,' ]+\s*(?:[A-Z]{3}|[^\w\s])?\s*-?", rows[index + 1]
        )
    ):
        amount = parse_amount(rows[index + 1])
    return amount


def _keyword_amount(rows: Sequence[str], pattern: re.Pattern) -> Decimal | None:
    for index, row in enumerate(rows):
        # "TOTAL INCL. VAT 10.54" is the total, but "TOTAL TAX 0.78" is tax.
        if pattern is _TAX and _TOTAL.search(row) and not _NOT_TOTAL.search(row):
            continue
        if pattern.search(row):
            amount = _row_amount(rows, index)
            if amount is not None:
                return amount
    return None


def _items(rows: Sequence[str], *, stop: int | None) -> list[LineItem]:
    items: list[LineItem] = []
    for row in rows[:stop]:
        if _SUBTOTAL.search(row) or _TOTAL.search(row) or _TAX.search(row):
            # A "VAT No." in the header is no end of the items; a sum is.
            if items or parse_amount(row) is not None:
                break
            continue
        if _PAYMENT.search(row) or any(
            pattern.search(row) for pattern in _DATE_PATTERNS
        ):
            continue
        matches = list(_AMOUNT.finditer(row))
        if not matches:
            continue
        detail = _QUANTITY_UNIT.search(row)
        price_match = matches[-1]
        name = row[: price_match.start()]
        if detail and detail.end() >= price_match.end():
            # A row such as "2 x 1,29" alone qualifies the item above it.
            if items and not re.search(r"[^\W\d_]{2}", _QUANTITY_UNIT.sub("", name)):
                items[-1] = _with_quantity(items[-1], detail)
                continue
            detail = None
        if detail:
            name = name[: detail.start()] + name[detail.end() :]
        item = _item(name, _amount(price_match), detail)
        if item is not None:
            items.append(item)
    return items


def _item(name: str, price: Decimal, detail: re.Match | None) -> LineItem | None:
    quantity = Decimal(1)
    unit_price = None
    if detail:
        quantity = Decimal(detail["qty"].replace(",", "."))
        unit_price = Decimal(detail["unit"].replace(",", "."))
    elif match := _QUANTITY_PREFIX.match(name.strip()) or _QUANTITY_WORD.search(name):
        quantity = Decimal(match["qty"])
        name = name.replace(match.group(0), " ", 1)
    name = re.sub(r"\s+", " ", name).strip(" .:-*$€£#\t")
    name = re.sub(r"\s+(?:EUR|USD|GBP|CHF)$", "", name)
    if len(re.findall(r"[^\W\d_]", name)) < 2 or quantity <= 0:
        return None
    if unit_price is None and quantity != 1:
        unit_price = (price / quantity).quantize(Decimal("0.01"))
    return LineItem(name=name, quantity=quantity, price=price, unit_price=unit_price)


def _with_quantity(item: LineItem, detail: re.Match) -> LineItem:
    quantity = Decimal(detail["qty"].replace(",", "."))
    unit_price = Decimal(detail["unit"].replace(",", "."))
    return LineItem(item.name, quantity, item.price, unit_price)


def _merchant(rows: Sequence[str]) -> str | None:
    for row in rows[:_MERCHANT_ROWS]:
        if _AMOUNT.search(row) or any(
            pattern.search(row) for pattern in _DATE_PATTERNS
        ):
            break
        if _NOT_MERCHANT.search(row) or re.search(r"\d{1,2}:\d{2}", row):
            continue
        letters = re.findall(r"[^\W\d_]", row)
        if len(letters) >= 3 and len(letters) >= len(row.replace(" ", "")) / 2:
            return row.strip(" *-=#")
    return None


def _date(rows: Sequence[str], *, day_first: bool) -> datetime.date | None:
    for row in rows:
        for pattern in _DATE_PATTERNS:
            for match in pattern.finditer(row):
                found = _date_from(match, day_first=day_first)
                if found is not None:
                    return found
    return None


def _date_from(match: re.Match, *, day_first: bool) -> datetime.date | None:
    parts = match.groupdict()
    try:
        if parts.get("a") is not None:
            first, second = int(parts["a"]), int(parts["b"])
            if first > 12 or (second <= 12 and (parts["sep"] == "." or day_first)):
                day, month = first, second
            else:
                day, month = second, first
        else:
            day = int(parts["day"])
            month = _month_number(parts["month"])
        year = int(parts["year"])
        if year < 100:
            year += 2000
        if not 1990 <= year <= 2100 or month is None:
            return None
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _month_number(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    word = text.lower()
    for length in (len(word), 5, 4, 3):
        if word[:length] in _MONTHS:
            return _MONTHS[word[:length]]
    return None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
