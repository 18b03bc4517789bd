"""Full-text search on the suite's database (PostgreSQL in CI, SQLite embedded): finds, ranks,
highlights, scopes; the query syntax; optional semantic re-ranking against a fake endpoint."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from documents import selectors
from documents import services
from documents.models import Chunk
from documents.selectors.search import fts5_query
from documents.selectors.search import highlight_html
from documents.tests.factories import ChunkFactory
from documents.tests.factories import CollectionFactory
from documents.tests.factories import DocumentFactory

pytestmark = pytest.mark.django_db


def chunk(collection, text, *, page=1, document=None, title="Guide"):
    document = document or DocumentFactory(collection=collection, title=title)
    return ChunkFactory(document=document, text=text, page_number=page)


@pytest.fixture
def library(user):
    collection = CollectionFactory(owner=user, name="Garden")
    guide = DocumentFactory(collection=collection, title="Garden guide")
    rich = chunk(
        collection,
        "Compost heaps need turning. Turn the compost every week so the compost "
        "heap gets air; compost made this way is ready sooner.",
        page=3,
        document=guide,
    )
    poor = chunk(
        collection,
        "Tomatoes like sun. A little compost at planting time helps them.",
        page=7,
        document=guide,
    )
    chunk(collection, "Roses need pruning in early spring.", page=9, document=guide)
    return collection, rich, poor


def ids(results) -> list[int]:
    return [hit.chunk_id for hit in results.hits]


def test_search_finds_and_ranks_the_better_match_first(library, user):
    collection, rich, poor = library
    results = selectors.chunk_search(query="compost", user=user)
    assert ids(results) == [rich.id, poor.id]
    assert results.hits[0].score > results.hits[1].score
    assert results.hits[0].page_number == 3
    assert results.hits[0].document_title == "Garden guide"
    assert results.has_more is False


def test_snippets_highlight_the_matches_and_escape_the_text(user):
    """Markup in a document never reaches the client as markup (PostgreSQL's
    headline drops tags, FTS5's snippet keeps them escaped)."""
    collection = CollectionFactory(owner=user)
    chunk(collection, "Beware of <script>alert(1)</script> in the compost bin & heap.")
    hit = selectors.chunk_search(query="compost", user=user).hits[0]
    assert "<mark>compost</mark>" in hit.snippet
    assert "bin &amp; heap" in hit.snippet
    assert "<script>" not in hit.snippet


def test_search_stems_words(library, user):
    """ "turning" finds "turn": the English configuration (Porter stemming on SQLite)."""
    _, rich, _ = library
    assert rich.id in ids(selectors.chunk_search(query="turned heaps", user=user))


def test_all_words_must_match_and_phrases_exclusions_and_or_work(library, user):
    _, rich, poor = library
    assert ids(selectors.chunk_search(query="compost tomatoes", user=user)) == [poor.id]
    assert ids(selectors.chunk_search(query='"compost heap"', user=user)) == [rich.id]
    assert ids(selectors.chunk_search(query="compost -tomatoes", user=user)) == [
        rich.id
    ]
    assert set(ids(selectors.chunk_search(query="roses OR tomatoes", user=user))) == {
        poor.id,
        Chunk.objects.get(text__startswith="Roses").id,
    }


def test_search_sees_only_the_users_collections_and_staff_see_all(
    library, user, other_user, staff_user
):
    other = CollectionFactory(owner=other_user)
    theirs = chunk(other, "Compost tea for seedlings.")
    assert theirs.id not in ids(selectors.chunk_search(query="compost", user=user))
    assert ids(selectors.chunk_search(query="compost", user=other_user)) == [theirs.id]
    assert theirs.id in ids(selectors.chunk_search(query="compost", user=staff_user))


def test_search_narrows_to_a_collection_or_a_document(library, user):
    collection, rich, poor = library
    elsewhere = CollectionFactory(owner=user, name="Kitchen")
    kitchen = chunk(elsewhere, "Kitchen scraps go on the compost.")
    assert kitchen.id not in ids(
        selectors.chunk_search(query="compost", user=user, collection_id=collection.id)
    )
    assert ids(
        selectors.chunk_search(
            query="compost", user=user, document_id=kitchen.document_id
        )
    ) == [kitchen.id]


def test_pages_of_results_follow_each_other(user):
    collection = CollectionFactory(owner=user)
    for number in range(5):
        chunk(
            collection, f"Seed catalogue entry {number} about seeds " + "seed " * number
        )
    first = selectors.chunk_search(query="seed", user=user, limit=2)
    second = selectors.chunk_search(query="seed", user=user, limit=2, offset=2)
    last = selectors.chunk_search(query="seed", user=user, limit=2, offset=4)
    assert first.has_more is True and second.has_more is True
    assert last.has_more is False
    assert len(set(ids(first) + ids(second) + ids(last))) == 5


def test_search_is_kept_up_to_date_when_chunks_change_or_go(library, user):
    _, rich, _ = library
    Chunk.objects.filter(id=rich.id).update(text="Mulch keeps the soil moist.")
    assert rich.id not in ids(selectors.chunk_search(query="compost", user=user))
    assert ids(selectors.chunk_search(query="mulch", user=user)) == [rich.id]
    Chunk.objects.filter(id=rich.id).delete()
    assert selectors.chunk_search(query="mulch", user=user).hits == []


def test_empty_and_overlong_queries_are_refused(user):
    with pytest.raises(ValidationError):
        selectors.chunk_search(query="   ", user=user)
    with pytest.raises(ValidationError):
        selectors.chunk_search(query="x" * 501, user=user)


def test_queries_of_only_punctuation_or_stop_words_find_nothing(library, user):
    assert selectors.chunk_search(query="--- ???", user=user).hits == []


def test_anonymous_sees_nothing(library):
    from django.contrib.auth.models import AnonymousUser

    assert selectors.chunk_search(query="compost", user=AnonymousUser()).hits == []


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="text search configurations are PostgreSQL's",
)
def test_each_collection_is_searched_in_its_own_language(user):
    """German stemming finds "Häuser" for "Haus"; the simple configuration does not stem."""
    german = CollectionFactory(owner=user, search_language="german")
    simple = CollectionFactory(owner=user, search_language="simple")
    in_german = chunk(german, "Die Häuser am Fluss wurden renoviert.")
    chunk(simple, "Die Häuser am Fluss wurden renoviert.")
    assert ids(selectors.chunk_search(query="Haus", user=user)) == [in_german.id]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the search_vector column is PostgreSQL's"
)
def test_changing_a_collections_language_reindexes_its_chunks(user):
    collection = CollectionFactory(owner=user, search_language="simple")
    found_later = chunk(collection, "Die Häuser am Fluss.")
    assert selectors.chunk_search(query="Haus", user=user).hits == []
    services.collection_update(collection=collection, search_language="german")
    services.collection_reindex(collection_id=collection.id)
    assert ids(selectors.chunk_search(query="Haus", user=user)) == [found_later.id]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("compost heap", '"compost" AND "heap"'),
        ('"compost heap" soil', '"compost heap" AND "soil"'),
        ("compost -rats", '"compost" NOT "rats"'),
        ("roses OR tulips sun", '("roses" OR "tulips") AND "sun"'),
        ('a"b NEAR(c) *x^', '"a b" AND "NEAR c" AND "x"'),
        ("-only -excluded", ""),
        ("OR", ""),
    ],
)
def test_fts5_query_quotes_every_word_so_users_cannot_write_fts_syntax(query, expected):
    assert fts5_query(query) == expected


def test_highlight_html_marks_and_escapes():
    assert highlight_html("a \ue000b\ue001 <c>") == "a <mark>b</mark> &lt;c&gt;"


def test_semantic_reranking_with_a_configured_embeddings_endpoint(user, settings, web):
    """With an endpoint, full-text candidates are re-ranked by meaning as well."""
    from documents import embeddings
    from documents.tests.servers import fake_embedding

    collection = CollectionFactory(owner=user)
    plain = chunk(collection, "Soil soil soil. Water the soil daily in summer heat.")
    close = chunk(collection, "Watering plants: water early, water soil.")
    for item in (plain, close):
        vector = embeddings._unit(
            __import__("numpy").asarray(fake_embedding(item.text), dtype="float32")
        )
        Chunk.objects.filter(id=item.id).update(embedding=embeddings.to_bytes(vector))
    settings.DOCUMENTS_EMBEDDINGS_API_URL = web.url("/v1")
    results = selectors.chunk_search(query="watering plants water", user=user)
    assert results.semantic is True
    assert ids(results)[0] == close.id
    assert [r.path for r in web.received] == ["/v1/embeddings"]


def test_search_falls_back_to_full_text_when_the_endpoint_fails(
    library, user, settings
):
    settings.DOCUMENTS_EMBEDDINGS_API_URL = "http://127.0.0.1:9/v1"
    settings.DOCUMENTS_EMBEDDINGS_TIMEOUT_S = 1
    results = selectors.chunk_search(query="compost", user=user)
    assert results.semantic is False
    assert len(results.hits) == 2
