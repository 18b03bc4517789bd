"""PostgreSQL: keep each chunk's search_vector in its row, compressed with lz4.

A chunk's tsvector (~1.5 KB) pushes the row past the TOAST threshold, and
the default strategy then moves the vector out of line: ranking every match
costs a TOAST index lookup per row. Stored inline (MAIN) it is read with
the row; ranking a 37,000-match query over 100,000 chunks fell from 450 ms
to 130 ms (bench/documents.py). lz4 decompresses faster than pglz; it is
skipped on a server built without it. Rows written before this migration
keep their layout until rewritten (VACUUM FULL, or processing again).
"""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE documents_chunk ALTER COLUMN search_vector SET STORAGE MAIN"
    )
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression'"
            " AND 'lz4' = ANY(enumvals)"
        )
        has_lz4 = cursor.fetchone() is not None
    if has_lz4:
        schema_editor.execute(
            "ALTER TABLE documents_chunk ALTER COLUMN search_vector SET COMPRESSION lz4"
        )


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE documents_chunk ALTER COLUMN search_vector SET STORAGE EXTENDED"
    )


class Migration(migrations.Migration):
    dependencies = [("documents", "0002_chunk_search_index")]

    operations = [migrations.RunPython(forward, backward)]
