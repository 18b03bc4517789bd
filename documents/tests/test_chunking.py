"""Chunking pages for search: order, page numbers, offsets, word boundaries."""

import pytest

from documents.chunking import chunk_pages
from documents.extraction import Page

TEXT = (
    "The warehouse shipped pallets. Revenue grew again this year.\n\n"
    "A new section starts here with several words in it."
)


def _check_offsets(chunks, pages):
    texts = {page.number: page.text for page in pages}
    for chunk in chunks:
        assert texts[chunk.page_number][chunk.start : chunk.end] == chunk.text


def test_short_page_is_one_chunk():
    """A page shorter than the size is one chunk covering it."""
    chunks = chunk_pages([Page(1, "  Just a few words.  ")], size=100, overlap=10)
    assert [(c.order, c.text, c.page_number, c.start, c.end) for c in chunks] == [
        (0, "Just a few words.", 1, 2, 19)
    ]


def test_chunks_end_at_sentences_with_overlap():
    """A break falls after a full stop; the next chunk repeats the last few words."""
    chunks = chunk_pages([Page(3, TEXT)], size=70, overlap=15)
    assert [chunk.text for chunk in chunks] == [
        "The warehouse shipped pallets. Revenue grew again this year.",
        "this year.\n\nA new section starts here with several words in it.",
    ]
    assert [(chunk.start, chunk.end) for chunk in chunks] == [(0, 60), (50, 113)]
    assert {chunk.page_number for chunk in chunks} == {3}
    _check_offsets(chunks, [Page(3, TEXT)])


def test_chunks_never_split_a_word_when_a_space_is_available():
    """Without sentence ends, chunks end at spaces and start at word beginnings."""
    page = Page(1, " ".join(f"word{index:03d}" for index in range(60)))
    chunks = chunk_pages([page], size=50, overlap=12)
    for chunk in chunks:
        assert len(chunk.text) <= 50
        assert chunk.start == 0 or page.text[chunk.start - 1] == " "
        assert chunk.end == len(page.text) or page.text[chunk.end] == " "
    assert chunks[0].text == "word000 word001 word002 word003 word004 word005"
    assert chunks[1].text.startswith("word005 ")
    _check_offsets(chunks, [page])


def test_chunks_prefer_a_paragraph_break():
    """A paragraph break late in the window wins over a later sentence end."""
    chunks = chunk_pages([Page(1, TEXT)], size=100, overlap=0)
    assert (
        chunks[0].text == "The warehouse shipped pallets. Revenue grew again this year."
    )
    assert chunks[1].text == "A new section starts here with several words in it."


def test_a_word_longer_than_the_size_is_cut():
    """Only a single word longer than a chunk is split, without overlap."""
    page = Page(1, "x" * 25)
    chunks = chunk_pages([page], size=10, overlap=3)
    assert [(chunk.start, chunk.end) for chunk in chunks] == [
        (0, 10),
        (10, 20),
        (20, 25),
    ]


def test_chunks_keep_their_page_and_global_order():
    """Chunks never span pages; order runs across the document; empty pages give none."""
    pages = [Page(1, "First page text."), Page(2, "   "), Page(3, "Third page text.")]
    chunks = chunk_pages(pages, size=100, overlap=10)
    assert [(chunk.order, chunk.page_number, chunk.text) for chunk in chunks] == [
        (0, 1, "First page text."),
        (1, 3, "Third page text."),
    ]


def test_every_character_is_covered():
    """Consecutive chunks touch or overlap, so no text is lost."""
    page = Page(1, "Alpha beta gamma. " * 200)
    chunks = chunk_pages([page], size=120, overlap=30)
    for previous, current in zip(chunks, chunks[1:], strict=False):
        assert current.start <= previous.end + 1
        assert current.start > previous.start
    assert chunks[-1].end == len(page.text.rstrip())


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (10, 10), (10, -1)])
def test_invalid_sizes_are_refused(size, overlap):
    """Overlap must be smaller than the size."""
    with pytest.raises(ValueError, match="overlap < size"):
        chunk_pages([Page(1, "text")], size=size, overlap=overlap)
