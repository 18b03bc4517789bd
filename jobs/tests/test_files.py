"""Media through Django's storage API: local copies for code that needs a real file."""

from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from jobs import files


def test_on_local_storage_the_stored_file_itself_is_used():
    name = default_storage.save("docs/a.txt", ContentFile(b"local bytes"))
    with files.local_copy(name) as path:
        assert path.read_bytes() == b"local bytes"
        assert path == Path(default_storage.path(name))
    assert default_storage.exists(name)  # never removed: it is the stored file


def test_a_missing_file_is_a_file_not_found_error():
    with (
        pytest.raises(FileNotFoundError, match="missing"),
        files.local_copy("docs/none.txt"),
    ):
        pass


def test_on_s3_a_temporary_copy_is_made_and_removed_after_success(s3_media):
    name = default_storage.save("docs/remote.bin", ContentFile(b"\x00remote" * 1000))
    assert s3_media.object_keys() == [f"media/{name}"]
    with files.local_copy(name) as path:
        copied = path
        assert path.read_bytes() == b"\x00remote" * 1000
        assert path.suffix == ".bin"
    assert not copied.exists()


def test_on_s3_the_temporary_copy_is_removed_when_the_block_fails(s3_media):
    name = default_storage.save("docs/remote.txt", ContentFile(b"x"))
    with pytest.raises(RuntimeError), files.local_copy(name) as path:
        copied = path
        raise RuntimeError("the parser crashed")
    assert not copied.exists()


def test_a_local_file_is_stored_and_deleted_through_the_storage(s3_media, tmp_path):
    local = tmp_path / "proxy.mp4"
    local.write_bytes(b"video" * 100)
    name = files.store_local_file(local, name="videos/1/proxy.mp4")
    assert s3_media.object_keys() == [f"media/{name}"]
    assert files.delete_quietly(name) is True
    assert s3_media.object_keys() == []
    assert files.delete_quietly(name) is False
