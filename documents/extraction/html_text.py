"""HTML to its main text with trafilatura: navigation, ads and footers left out."""

import trafilatura
from trafilatura.metadata import extract_metadata


def parse(data: bytes) -> tuple[str, str]:
    """The main text of an HTML page and its title."""
    text = trafilatura.extract(
        data,
        output_format="txt",
        include_comments=False,
        include_tables=True,
        include_links=False,
        include_images=False,
        deduplicate=False,
        favor_precision=True,
    )
    if not text:
        # Pages with little prose fall under trafilatura's size threshold;
        # its baseline keeps their text rather than dropping the page.
        _, text, _ = trafilatura.baseline(data)
    metadata = extract_metadata(data)
    title = (metadata.title or "") if metadata is not None else ""
    return (text or "").strip(), title.strip()
