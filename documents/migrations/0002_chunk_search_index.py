"""Full-text search over chunks, kept up to date by the database itself.

PostgreSQL: a `search_vector` tsvector column built by a trigger from the
chunk's text with the chunk's own configuration (its collection's search
language), and a GIN index on it. SQLite: an external-content FTS5 table
(`documents_chunk_fts`, rowid = chunk id) kept in step by triggers.
Rows written any way (bulk inserts, raw SQL, the admin) are indexed.
"""

from django.db import migrations

POSTGRESQL_FORWARD = [
    "ALTER TABLE documents_chunk ADD COLUMN search_vector tsvector",
    """
    CREATE FUNCTION documents_chunk_search_vector() RETURNS trigger AS $$
    BEGIN
        NEW.search_vector := to_tsvector(NEW.search_config::regconfig, NEW.text);
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER documents_chunk_search_vector_update
    BEFORE INSERT OR UPDATE OF text, search_config ON documents_chunk
    FOR EACH ROW EXECUTE FUNCTION documents_chunk_search_vector()
    """,
    "CREATE INDEX documents_chunk_search_idx ON documents_chunk "
    "USING gin (search_vector)",
]
POSTGRESQL_BACKWARD = [
    "DROP TRIGGER IF EXISTS documents_chunk_search_vector_update ON documents_chunk",
    "DROP FUNCTION IF EXISTS documents_chunk_search_vector()",
    "DROP INDEX IF EXISTS documents_chunk_search_idx",
    "ALTER TABLE documents_chunk DROP COLUMN IF EXISTS search_vector",
]
SQLITE_FORWARD = [
    # Porter stemming over unicode61 words, accents folded: "Café" finds
    # "cafe" and "running" finds "run".
    """
    CREATE VIRTUAL TABLE documents_chunk_fts USING fts5(
        text, content='documents_chunk', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER documents_chunk_fts_insert AFTER INSERT ON documents_chunk
    BEGIN
        INSERT INTO documents_chunk_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
    """
    CREATE TRIGGER documents_chunk_fts_delete AFTER DELETE ON documents_chunk
    BEGIN
        INSERT INTO documents_chunk_fts(documents_chunk_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
    END
    """,
    """
    CREATE TRIGGER documents_chunk_fts_update AFTER UPDATE OF text ON documents_chunk
    BEGIN
        INSERT INTO documents_chunk_fts(documents_chunk_fts, rowid, text)
        VALUES ('delete', old.id, old.text);
        INSERT INTO documents_chunk_fts(rowid, text) VALUES (new.id, new.text);
    END
    """,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS documents_chunk_fts_update",
    "DROP TRIGGER IF EXISTS documents_chunk_fts_delete",
    "DROP TRIGGER IF EXISTS documents_chunk_fts_insert",
    "DROP TABLE IF EXISTS documents_chunk_fts",
]


def _run(schema_editor, statements_by_vendor):
    statements = statements_by_vendor.get(schema_editor.connection.vendor, [])
    for statement in statements:
        schema_editor.execute(statement)


def forward(apps, schema_editor):
    _run(
        schema_editor,
        {"postgresql": POSTGRESQL_FORWARD, "sqlite": SQLITE_FORWARD},
    )


def backward(apps, schema_editor):
    _run(
        schema_editor,
        {"postgresql": POSTGRESQL_BACKWARD, "sqlite": SQLITE_BACKWARD},
    )


class Migration(migrations.Migration):
    dependencies = [("documents", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
