"""Ranked full-text search over chunks, with highlighted snippets and page numbers.

PostgreSQL: `websearch_to_tsquery` in each text search configuration of the
collections in scope, matched against the GIN-indexed `search_vector`,
ranked by `ts_rank_cd`, snippets by `ts_headline` for the returned page
only. SQLite: FTS5 `MATCH`, ranked by bm25, snippets by `snippet()`. Both
read the same query syntax: words (all must match), "quoted phrases",
-excluded words and OR.

When an embeddings endpoint is configured, the best full-text candidates
are re-ranked by meaning as well (reciprocal rank fusion of both orders).
"""

import html
import logging
import re
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from documents import embeddings
from documents.models import Chunk
from documents.models import Collection

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 500
MAX_LIMIT = 100
# Candidates re-ranked by meaning when embeddings are configured.
SEMANTIC_CANDIDATES = 100
_RRF_K = 60
# Private-use characters mark matches inside snippets; the text is escaped
# for HTML and the marks become <mark> afterwards, so a document's own
# markup never reaches a client as markup.
_START, _STOP = "\ue000", "\ue001"
_HEADLINE_OPTIONS = (
    f"StartSel={_START}, StopSel={_STOP}, MaxWords=35, MinWords=15, "
    'ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "'
)
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(-?)(\S+)')


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    document_id: int
    collection_id: int
    document_title: str
    filename: str
    page_number: int
    start_offset: int
    end_offset: int
    order: int
    score: float
    snippet: str
    text: str


@dataclass(frozen=True)
class SearchResults:
    query: str
    hits: list[SearchHit]
    has_more: bool
    semantic: bool


def chunk_search(
    *,
    query: str,
    user: Any = None,
    collection_id: int | None = None,
    document_id: int | None = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchResults:
    """The chunks the user may see that match `query`, best first, `limit` from `offset`."""
    query = " ".join((query or "").split())
    if not query:
        raise ValidationError({"q": "give a search query"})
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationError(
            {"q": f"the query is longer than {MAX_QUERY_CHARS} characters"}
        )
    limit = max(1, min(int(limit), MAX_LIMIT))
    offset = max(0, int(offset))
    scope = _Scope.of(user, collection_id, document_id)
    vector = _query_vector(query)
    if vector is not None and offset + limit <= SEMANTIC_CANDIDATES:
        hits = _search(query, scope, limit=SEMANTIC_CANDIDATES, offset=0)
        hits = _rerank(hits, vector)
        return SearchResults(
            query=query,
            hits=hits[offset : offset + limit],
            has_more=len(hits) > offset + limit,
            semantic=True,
        )
    hits = _search(query, scope, limit=limit + 1, offset=offset)
    return SearchResults(
        query=query, hits=hits[:limit], has_more=len(hits) > limit, semantic=False
    )


@dataclass(frozen=True)
class _Scope:
    """The SQL conditions (on aliases d, c) and parameters of what the user may see."""

    where: str
    params: tuple
    configs: tuple[str, ...]

    @classmethod
    def of(cls, user: Any, collection_id: int | None, document_id: int | None):
        conditions, params = [], []
        collections = Collection.objects.all()
        if not (user is None or getattr(user, "is_staff", False)):
            if not getattr(user, "is_authenticated", False):
                return cls("FALSE", (), ())
            conditions.append("c.owner_id = %s")
            params.append(user.pk)
            collections = collections.filter(owner=user)
        if collection_id is not None:
            conditions.append("d.collection_id = %s")
            params.append(collection_id)
            collections = collections.filter(id=collection_id)
        if document_id is not None:
            conditions.append("d.id = %s")
            params.append(document_id)
            collections = collections.filter(documents__id=document_id)
        configs = tuple(
            sorted(set(collections.values_list("search_language", flat=True)))
        )
        valid = set(Collection.SearchLanguage.values)
        return cls(
            " AND ".join(conditions) or "TRUE",
            tuple(params),
            tuple(config for config in configs if config in valid),
        )


def _search(query: str, scope: _Scope, *, limit: int, offset: int) -> list[SearchHit]:
    if connection.vendor == "postgresql":
        return _search_postgresql(query, scope, limit=limit, offset=offset)
    if connection.vendor == "sqlite":
        return _search_sqlite(query, scope, limit=limit, offset=offset)
    raise ValidationError(f"search needs PostgreSQL or SQLite, not {connection.vendor}")


def _search_postgresql(
    query: str, scope: _Scope, *, limit: int, offset: int
) -> list[SearchHit]:
    if not scope.configs:
        return []
    # One branch per configuration in scope: each is an index scan of the
    # GIN index with a query stemmed the way its chunks were.
    branches, params = [], []
    for config in scope.configs:
        branches.append(
            "SELECT %s AS config, websearch_to_tsquery(%s::regconfig, %s) AS query"
        )
        params += [config, config, query]
    sql = f"""
        WITH queries AS ({" UNION ALL ".join(branches)}),
        ranked AS (
            SELECT ch.id, ch.document_id, ch.page_number, ch.start_offset,
                   ch.end_offset, ch."order", ch.text, ch.search_config, q.query,
                   ts_rank_cd(ch.search_vector, q.query, 32) AS score
            FROM queries q
            JOIN documents_chunk ch
              ON ch.search_config = q.config AND ch.search_vector @@ q.query
            JOIN documents_document d ON d.id = ch.document_id
            JOIN documents_collection c ON c.id = d.collection_id
            WHERE {scope.where}
            ORDER BY score DESC, ch.id
            LIMIT %s OFFSET %s
        )
        SELECT r.id, r.document_id, d.collection_id, d.title, d.filename,
               r.page_number, r.start_offset, r.end_offset, r."order", r.score,
               ts_headline(r.search_config::regconfig, r.text, r.query, %s),
               r.text
        FROM ranked r JOIN documents_document d ON d.id = r.document_id
        ORDER BY r.score DESC, r.id
    """
    params += [*scope.params, limit, offset, _HEADLINE_OPTIONS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_hit(row) for row in rows]


def fts5_query(query: str) -> str:
    """A user's query in FTS5 syntax: every word or phrase quoted, -word as NOT, OR kept."""
    groups: list[list[str]] = []
    excluded: list[str] = []
    join_next = False
    for match in _TOKEN.finditer(query):
        negative = bool(match.group(1) or match.group(3))
        text = match.group(2) if match.group(2) is not None else match.group(4)
        if match.group(4) == "OR" and not negative:
            join_next = bool(groups)
            continue
        words = re.findall(r"\w+", text)
        if not words:
            continue
        phrase = '"' + " ".join(words) + '"'
        if negative:
            excluded.append(phrase)
        elif join_next:
            groups[-1].append(phrase)
        else:
            groups.append([phrase])
        join_next = False
    if not groups:
        return ""
    parts = [
        group[0] if len(group) == 1 else "(" + " OR ".join(group) + ")"
        for group in groups
    ]
    expression = " AND ".join(parts)
    for phrase in excluded:
        expression += f" NOT {phrase}"
    return expression


def _search_sqlite(
    query: str, scope: _Scope, *, limit: int, offset: int
) -> list[SearchHit]:
    expression = fts5_query(query)
    if not expression or scope.where == "FALSE":
        return []
    sql = f"""
        SELECT ch.id, ch.document_id, d.collection_id, d.title, d.filename,
               ch.page_number, ch.start_offset, ch.end_offset, ch."order",
               -bm25(documents_chunk_fts) AS score,
               snippet(documents_chunk_fts, 0, %s, %s, '…', 32),
               ch.text
        FROM documents_chunk_fts
        JOIN documents_chunk ch ON ch.id = documents_chunk_fts.rowid
        JOIN documents_document d ON d.id = ch.document_id
        JOIN documents_collection c ON c.id = d.collection_id
        WHERE documents_chunk_fts MATCH %s AND {scope.where.replace("TRUE", "1")}
        ORDER BY bm25(documents_chunk_fts), ch.id
        LIMIT %s OFFSET %s
    """
    params = [_START, _STOP, expression, *scope.params, limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [_hit(row) for row in rows]


def _hit(row: tuple) -> SearchHit:
    (chunk_id, document_id, collection_id, title, filename, page, start, end, order) = (
        row[:9]
    )
    score, snippet, text = row[9:]
    return SearchHit(
        chunk_id=chunk_id,
        document_id=document_id,
        collection_id=collection_id,
        document_title=title or filename,
        filename=filename,
        page_number=page,
        start_offset=start,
        end_offset=end,
        order=order,
        score=round(float(score), 6),
        snippet=highlight_html(snippet or text[:240]),
        text=text,
    )


def highlight_html(snippet: str) -> str:
    """A snippet with its match marks as <mark>…</mark> and everything else escaped."""
    escaped = html.escape(snippet, quote=False)
    return escaped.replace(_START, "<mark>").replace(_STOP, "</mark>")


def _query_vector(query: str):
    if not settings.DOCUMENTS_EMBEDDINGS_API_URL:
        return None
    try:
        return embeddings.embed(
            [query],
            base_url=settings.DOCUMENTS_EMBEDDINGS_API_URL,
            api_key=settings.DOCUMENTS_EMBEDDINGS_API_KEY,
            model=settings.DOCUMENTS_EMBEDDINGS_MODEL,
            timeout_s=settings.DOCUMENTS_EMBEDDINGS_TIMEOUT_S,
        )[0]
    except embeddings.EmbeddingsError as error:
        logger.warning("search_without_embeddings error=%s", error)
        return None


def _rerank(hits: list[SearchHit], vector) -> list[SearchHit]:
    """Full-text order fused with the order by cosine similarity (chunks without vectors keep theirs)."""
    if not hits:
        return hits
    stored = dict(
        Chunk.objects.filter(
            id__in=[hit.chunk_id for hit in hits], embedding__isnull=False
        ).values_list("id", "embedding")
    )
    if not stored:
        return hits
    ids = list(stored)
    similarity = dict(
        zip(
            ids, embeddings.cosine_scores(vector, [stored[i] for i in ids]), strict=True
        )
    )
    by_meaning = sorted(ids, key=lambda chunk_id: -similarity[chunk_id])
    meaning_rank = {chunk_id: rank for rank, chunk_id in enumerate(by_meaning)}
    fused = []
    for text_rank, hit in enumerate(hits):
        score = 1 / (_RRF_K + text_rank)
        if hit.chunk_id in meaning_rank:
            score += 1 / (_RRF_K + meaning_rank[hit.chunk_id])
        fused.append(replace(hit, score=round(score, 6)))
    return sorted(fused, key=lambda hit: -hit.score)
