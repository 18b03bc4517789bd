"""Receipt fields from text rows, and from receipt images the tests render."""

import datetime
from decimal import Decimal

import pytest

from documents.receipts import LineItem
from documents.receipts import parse_amount
from documents.receipts import parse_receipt
from documents.receipts import read_receipt
from documents.tests import samples

D = Decimal


def _rows(lines):
    return [line.lstrip("^").replace("|", " ") for line in lines]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("Date 2025-03-14", datetime.date(2025, 3, 14)),
        ("14/03/2025 10:42", datetime.date(2025, 3, 14)),
        ("03/14/2025", datetime.date(2025, 3, 14)),
        ("14.03.25", datetime.date(2025, 3, 14)),
        ("03.04.2025", datetime.date(2025, 4, 3)),
        ("12 Jan 2025", datetime.date(2025, 1, 12)),
        ("3rd March 2025", datetime.date(2025, 3, 3)),
        ("Jan 12, 2025", datetime.date(2025, 1, 12)),
        ("12-Dez-2024", datetime.date(2024, 12, 12)),
        ("12.01.202508:15", datetime.date(2025, 1, 12)),
    ],
)
def test_dates_in_common_formats(row, expected):
    """ISO, numeric with any separator, and month names in several languages."""
    assert parse_receipt(["SHOP", row]).date == expected


def test_ambiguous_date_is_day_first_unless_dollars_or_told():
    """03/04/2025 is 3 April by default, 4 March on a dollar receipt or with day_first=False."""
    assert parse_receipt(["03/04/2025", "TOTAL 1.00"]).date == datetime.date(2025, 4, 3)
    assert parse_receipt(["03/04/2025", "TOTAL $1.00"]).date == datetime.date(
        2025, 3, 4
    )
    assert parse_receipt(["03/04/2025"], day_first=False).date == datetime.date(
        2025, 3, 4
    )
    assert parse_receipt(["03.04.2025", "TOTAL $1.00"]).date == datetime.date(
        2025, 4, 3
    )


def test_impossible_dates_are_skipped():
    """A 31st of February is no date; the next valid one is taken."""
    assert parse_receipt(["31/02/2025", "01/03/2025"]).date == datetime.date(2025, 3, 1)


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("TOTAL 10.54", D("10.54")),
        ("SUMME 1.234,56 EUR", D("1234.56")),
        ("Total $1,234.56", D("1234.56")),
        ("Rabatt 2,00-", D("-2.00")),
        ("Discount -0.50", D("-0.50")),
        ("12.01.2025", None),
        ("Tel 555.1234", None),
    ],
)
def test_parse_amount_reads_both_decimal_conventions(text, amount):
    """Dots or commas as decimal separator; dates and phone numbers are no amounts."""
    assert parse_amount(text) == amount


def test_grocery_rows_give_every_field():
    """Merchant, date, keyword total, subtotal, tax and items with quantities."""
    fields = parse_receipt(_rows(samples.GROCERY))
    assert fields.merchant == "CORNER GROCERY"
    assert fields.date == datetime.date(2025, 3, 14)
    assert fields.total == D("10.54")
    assert fields.subtotal == D("9.76")
    assert fields.tax == D("0.78")
    assert fields.currency is None
    assert fields.items == (
        LineItem("Milk 1L", D(1), D("1.29")),
        LineItem("Bread", D(2), D("4.98"), D("2.49")),
        LineItem("Apples 1kg", D(1), D("3.49")),
    )
    assert fields.confidence == 1.0


def test_strong_total_keyword_wins_and_split_rows_are_joined():
    """AMOUNT DUE beats TOTAL, and an amount on the row below its label is found."""
    fields = parse_receipt(
        ["SHOP", "Tea $2.00", "TOTAL ITEMS 1", "TOTAL", "$2.00", "AMOUNT DUE", "$2.16"]
    )
    assert fields.total == D("2.16")
    assert fields.currency == "USD"


def test_subtotal_and_payment_lines_are_not_the_total():
    """SUBTOTAL, cash and change are skipped when looking for the total."""
    fields = parse_receipt(
        ["SHOP", "Soap 3.00", "SUBTOTAL 3.00", "CASH 5.00", "TOTAL 3.21"]
    )
    assert fields.total == D("3.21")
    assert fields.subtotal == D("3.00")


def test_total_without_keyword_is_a_less_confident_guess():
    """With no total keyword the largest amount is taken, at lower confidence."""
    fields = parse_receipt(["KIOSK", "12/05/2025", "Paper 2.50", "Gum 1.20", "4.20"])
    assert fields.total == D("4.20")
    assert fields.confidence == pytest.approx(0.8)


def test_euro_receipt_with_quantity_line_below_the_item():
    """A "2 x 0,45" row qualifies the item above it; tax letters after prices are ignored."""
    fields = parse_receipt(_rows(samples.BAKERY))
    assert fields.merchant == "BACKSTUBE MEYER"
    assert fields.currency == "EUR"
    assert fields.total == D("6.10")
    assert [
        (item.name, item.quantity, item.price, item.unit_price) for item in fields.items
    ] == [
        ("Croissant", D(1), D("2.40"), None),
        ("Brezel", D(2), D("0.90"), D("0.45")),
        ("Kaffee gross", D(1), D("2.80"), None),
    ]


def test_merchant_skips_greetings_addresses_and_phone_numbers():
    """The merchant is the first header row that names a business."""
    rows = [
        "Welcome to",
        "www.shop.example",
        "Tel 030 1234567",
        "Sunny Mart",
        "Tea 1.00",
    ]
    assert parse_receipt(rows).merchant == "Sunny Mart"


def test_as_dict_is_json_ready():
    """Amounts become strings and the date ISO text."""
    data = parse_receipt(_rows(samples.CAFE)).as_dict()
    assert data["date"] == "2025-01-12"
    assert data["total"] == "12.75"
    assert data["items"][0] == {
        "name": "Latte",
        "quantity": "2",
        "price": "9.00",
        "unit_price": "4.50",
    }


@pytest.mark.parametrize(
    ("lines", "options", "merchant", "date", "total", "items"),
    [
        (
            samples.GROCERY,
            {},
            "CORNER GROCERY",
            datetime.date(2025, 3, 14),
            D("10.54"),
            3,
        ),
        (
            samples.CAFE,
            {"mono": False},
            "Blue Bottle Cafe",
            datetime.date(2025, 1, 12),
            D("12.75"),
            2,
        ),
        (
            samples.BAKERY,
            {"rotate": -3, "noise": 10},
            "BACKSTUBE MEYER",
            datetime.date(2025, 1, 12),
            D("6.10"),
            3,
        ),
    ],
    ids=["monospace", "proportional", "photographed"],
)
def test_rendered_receipts_are_read(lines, options, merchant, date, total, items):
    """OCR plus parsing recovers the fields, also from a slanted, noisy photo."""
    reading = read_receipt(samples.receipt_image(lines, **options))
    assert reading.fields.merchant == merchant
    assert reading.fields.date == date
    assert reading.fields.total == total
    assert len(reading.fields.items) == items
    assert reading.fields.confidence > 0.9
    assert reading.lines[0] == merchant


def test_photographed_receipt_is_deskewed_into_rows():
    """Boxes of a slanted photo are rotated back, so names and prices share rows."""
    reading = read_receipt(samples.receipt_image(samples.GROCERY, rotate=4, noise=12))
    assert reading.skew_degrees == pytest.approx(-4, abs=1)
    assert "TOTAL 10.54" in reading.lines
    assert reading.fields.items[1] == LineItem("Bread", D(2), D("4.98"), D("2.49"))


def test_sideways_receipt_is_turned_upright():
    """A receipt a quarter turn off (counter-clockwise) is read after turning it back."""
    reading = read_receipt(samples.receipt_image(samples.CAFE, mono=False, rotate=90))
    assert reading.rotation == 270
    assert reading.fields.total == D("12.75")
    assert reading.fields.merchant == "Blue Bottle Cafe"
