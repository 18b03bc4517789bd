"""/api/v1/photos/: multi-file upload, filters, files served to their owners only."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from photos import services
from photos.models import Photo
from photos.tests import images
from photos.tests.factories import PhotoFactory
from photos.tests.factories import PhotoSessionFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("shared_presets")]

URL = "/api/v1/photos/"


def upload(client, *files, **fields):
    return client.post(URL, {"files": list(files), **fields}, format="multipart")


def jpeg_file(
    name: str, scene: str = "astronaut", size: int = 240
) -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, images.encode(images.photograph(scene, size=size)), "image/jpeg"
    )


# UPLOAD -------------------------------------------------------------------


def test_upload_of_several_photos_answers_each_one(user_client, user):
    answer = upload(
        user_client,
        jpeg_file("a.jpg"),
        jpeg_file("b.jpg", "coffee"),
        session_name="Trip",
    )

    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["stored"], body["duplicates"], body["refused"]) == (2, 0, 0)
    assert [entry["name"] for entry in body["files"]] == ["a.jpg", "b.jpg"]
    photo = body["files"][0]["photo"]
    assert photo["session_name"] == "Trip"
    assert photo["status"] == "pending"
    assert photo["thumbnail_url"] is None  # made by the analysis job
    assert photo["original_url"].endswith(f"/api/v1/photos/{photo['id']}/original/")
    assert Photo.objects.filter(owner=user).count() == 2


def test_upload_with_some_bad_files_stores_the_good_ones_and_answers_207(user_client):
    answer = upload(
        user_client,
        jpeg_file("good.jpg"),
        SimpleUploadedFile("anim.gif", b"GIF89a" + b"\x00" * 32),
        SimpleUploadedFile("bomb.png", images.png_bomb()),
        SimpleUploadedFile("half.jpg", b"\xff\xd8\xff\xe0 cut"),
    )

    assert answer.status_code == 207, answer.content
    files = {entry["name"]: entry for entry in answer.json()["files"]}
    assert files["good.jpg"]["status"] == 201
    assert (files["anim.gif"]["status"], files["anim.gif"]["error"]) == (
        415,
        "unsupported_media_type",
    )
    assert "GIF" in files["anim.gif"]["detail"]
    assert (files["bomb.png"]["status"], files["bomb.png"]["error"]) == (
        413,
        "too_many_pixels",
    )
    assert files["half.jpg"]["status"] == 400
    assert Photo.objects.count() == 1


@pytest.mark.parametrize(
    ("content", "status_code", "error"),
    [
        (b"GIF89a" + b"\x00" * 32, 415, "unsupported_media_type"),
        (images.jpeg_bomb(), 413, "too_many_pixels"),
        (b"", 400, "empty_file"),
    ],
)
def test_upload_of_only_bad_files_answers_their_status_with_a_message(
    user_client, content, status_code, error
):
    answer = upload(user_client, SimpleUploadedFile("x.bin", content))

    assert answer.status_code == status_code
    body = answer.json()
    assert body["error"] == error
    assert body["detail"].startswith("no photo was stored: x.bin: ")
    assert Photo.objects.count() == 0


def test_a_file_over_the_size_limit_answers_413(user_client, settings):
    settings.PHOTOS_MAX_UPLOAD_BYTES = 500

    answer = upload(user_client, jpeg_file("big.jpg"))

    assert answer.status_code == 413
    assert answer.json()["files"][0]["error"] == "file_too_large"


def test_reupload_answers_the_photo_already_stored(user_client):
    data = images.encode(images.photograph(size=200))
    first = upload(user_client, SimpleUploadedFile("a.jpg", data))

    again = upload(user_client, SimpleUploadedFile("copy.jpg", data))

    assert again.status_code == 200
    entry = again.json()["files"][0]
    assert entry["duplicate"] is True
    assert entry["photo"]["id"] == first.json()["files"][0]["photo"]["id"]


def test_upload_without_files_or_into_another_user_s_session_is_400(
    user_client, other_user
):
    foreign = PhotoSessionFactory(owner=other_user)

    empty = user_client.post(URL, {}, format="multipart")
    foreign_session = upload(user_client, jpeg_file("a.jpg"), session=foreign.pk)

    assert empty.status_code == 400
    assert "files" in empty.json()["detail"]
    assert foreign_session.status_code == 400
    assert "session" in foreign_session.json()["detail"]


def test_too_many_files_in_one_request_is_400(user_client, settings):
    settings.PHOTOS_MAX_FILES_PER_UPLOAD = 1

    answer = upload(user_client, jpeg_file("a.jpg"), jpeg_file("b.jpg", "coffee"))

    assert answer.status_code == 400
    assert "the limit is 1" in str(answer.json()["detail"])


def test_anonymous_cannot_upload(anon_client):
    assert upload(anon_client, jpeg_file("a.jpg")).status_code == 401


def test_upload_is_rate_limited_per_user(user_client, settings):
    settings.API_RATELIMIT_ENABLED = True
    settings.PHOTOS_RATE_LIMITS = {**settings.PHOTOS_RATE_LIMITS, "upload": "1/m"}

    first = upload(user_client, jpeg_file("a.jpg"))
    second = upload(user_client, jpeg_file("b.jpg", "coffee"))

    assert first.status_code == 201
    assert second.status_code == 429
    assert "Retry-After" in second.headers


# LIST, FILTERS, DETAIL ----------------------------------------------------


def test_list_is_owner_scoped_and_staff_see_all(
    user_client, staff_client, user, other_user
):
    mine = PhotoFactory(owner=user)
    PhotoFactory(owner=other_user)

    assert [p["id"] for p in user_client.get(URL).json()["results"]] == [mine.pk]
    assert staff_client.get(URL).json()["count"] == 2


def test_filters_by_session_score_context_camera_and_date(user_client, user):
    session = PhotoSessionFactory(owner=user)
    portrait = PhotoFactory(
        owner=user,
        session=session,
        score=4.6,
        context_labels=["portrait", "indoor"],
        context_index="\nportrait\nindoor\n",
        camera_make="Canon",
        camera_model="Canon EOS R6",
        taken_at=dt.datetime(2024, 6, 1, 12, tzinfo=dt.UTC),
    )
    PhotoFactory(
        owner=user,
        score=2.1,
        context_labels=["night"],
        context_index="\nnight\n",
        camera_make="NIKON CORPORATION",
        camera_model="NIKON Z 6",
        taken_at=dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
    )

    def ids(query: str) -> list[int]:
        answer = user_client.get(f"{URL}?{query}")
        assert answer.status_code == 200, answer.content
        return [photo["id"] for photo in answer.json()["results"]]

    assert ids(f"session={session.pk}") == [portrait.pk]
    assert ids("score_min=4.5") == [portrait.pk]
    assert ids("context=portrait&context=indoor") == [portrait.pk]
    assert ids("context=portrait&context=night") == []
    assert ids("camera=eos") == [portrait.pk]
    assert ids("taken_after=2024-01-01T00:00:00Z") == [portrait.pk]
    assert len(ids("ordering=-score")) == 2


@pytest.mark.parametrize(
    "query",
    [
        "context=sunset",
        "score_min=high",
        "taken_after=2024-01-01T00:00:00+23:00",
        "taken_after=not-a-date",
    ],
)
def test_bad_filters_answer_400(user_client, query):
    answer = user_client.get(f"{URL}?{query}")

    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid"


def test_detail_has_the_exif_and_another_user_gets_404(user_client, user, other_user):
    mine = PhotoFactory(owner=user, exif={"Image": {"Make": "Canon"}})
    theirs = PhotoFactory(owner=other_user)

    answer = user_client.get(f"{URL}{mine.pk}/")

    assert answer.status_code == 200
    assert answer.json()["exif"] == {"Image": {"Make": "Canon"}}
    assert user_client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert user_client.get(f"{URL}999999/").status_code == 404


# FILES --------------------------------------------------------------------


def test_files_are_served_to_the_owner_through_authenticated_routes(
    user_client, anon_client, other_user, user, analysed
):
    photo = analysed(images.encode(images.photograph(size=400)), name="cat.jpg")
    other_client = user_client.__class__()
    other_client.force_authenticate(other_user)

    detail = user_client.get(f"{URL}{photo.pk}/").json()
    thumbnail = user_client.get(detail["thumbnail_url"])
    preview = user_client.get(detail["preview_url"])
    original = user_client.get(detail["original_url"])

    assert "/media/" not in detail["thumbnail_url"]
    assert thumbnail.status_code == 200
    assert thumbnail["Content-Type"] == "image/jpeg"
    assert b"".join(thumbnail.streaming_content).startswith(b"\xff\xd8")
    assert preview.status_code == 200
    assert original.status_code == 200
    assert 'filename="cat.jpg"' in original["Content-Disposition"]
    assert anon_client.get(detail["thumbnail_url"]).status_code == 401
    assert other_client.get(detail["thumbnail_url"]).status_code == 404


def test_files_not_made_yet_answer_404_with_a_reason(user_client, user):
    photo = PhotoFactory(owner=user)

    answer = user_client.get(f"{URL}{photo.pk}/developed/")

    assert answer.status_code == 404
    assert answer.json()["detail"] == "the developed preview is not made yet"


# CHANGES AND ACTIONS ------------------------------------------------------


def test_patch_corrects_the_time_as_the_client_gives_it(user_client, user):
    photo = PhotoFactory(owner=user)

    answer = user_client.patch(
        f"{URL}{photo.pk}/", {"taken_at": "2024-06-01T10:00:00+02:00"}, format="json"
    )

    assert answer.status_code == 200
    assert answer.json()["taken_at"] == "2024-06-01T08:00:00Z"
    assert answer.json()["taken_at_source"] == "client"


@pytest.mark.parametrize(
    "taken_at",
    [
        "2999-01-01T00:00:00Z",
        "1700-01-01T00:00:00Z",
        "yesterday",
        "2024-06-01T10:00:00+15:00",
        "2024-06-01T10:00:00-21:40",
    ],
)
def test_patch_refuses_client_times_outside_the_project_rules(
    user_client, user, taken_at
):
    photo = PhotoFactory(owner=user)

    answer = user_client.patch(
        f"{URL}{photo.pk}/", {"taken_at": taken_at}, format="json"
    )

    assert answer.status_code == 400
    assert "taken_at" in answer.json()["detail"]


def test_patch_moves_a_photo_to_one_of_the_owner_s_sessions(
    user_client, user, other_user
):
    photo = PhotoFactory(owner=user)
    target = PhotoSessionFactory(owner=user)
    foreign = PhotoSessionFactory(owner=other_user)

    moved = user_client.patch(
        f"{URL}{photo.pk}/", {"session": target.pk}, format="json"
    )
    refused = user_client.patch(
        f"{URL}{photo.pk}/", {"session": foreign.pk}, format="json"
    )

    assert moved.json()["session"] == target.pk
    assert refused.status_code == 400


def test_analyze_action_queues_at_user_requested_priority(user_client, user):
    photo = PhotoFactory(owner=user, score=1.5)

    answer = user_client.post(f"{URL}{photo.pk}/analyze/", {}, format="json")
    again = user_client.post(f"{URL}{photo.pk}/analyze/", {}, format="json")

    assert answer.status_code == 202
    body = answer.json()
    assert (body["priority"], body["queue"], body["created"]) == (9, "medium", True)
    assert again.json()["created"] is False
    assert again.json()["task_id"] == body["task_id"]


def test_apply_preset_action_queues_the_development(user_client, user):
    photo = PhotoFactory(owner=user)
    preset = services.preset_create(created_by=user, name="Mine")

    answer = user_client.post(
        f"{URL}{photo.pk}/apply-preset/", {"preset": preset.pk}, format="json"
    )
    cleared = user_client.post(
        f"{URL}{photo.pk}/apply-preset/", {"preset": None}, format="json"
    )

    assert answer.status_code == 202
    assert (answer.json()["job_type"], answer.json()["queue"]) == (
        "photos.apply_preset",
        "high",
    )
    assert cleared.status_code == 200
    assert cleared.json()["preset"] is None


def test_delete_removes_the_photo(user_client, user, other_user):
    mine, theirs = PhotoFactory(owner=user), PhotoFactory(owner=other_user)

    assert user_client.delete(f"{URL}{theirs.pk}/").status_code == 404
    assert user_client.delete(f"{URL}{mine.pk}/").status_code == 204
    assert not Photo.objects.filter(pk=mine.pk).exists()


def test_more_files_than_django_reads_is_a_400_not_a_crash(user_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3

    answer = upload(
        user_client,
        *[SimpleUploadedFile(f"{n}.jpg", b"\xff\xd8\xff") for n in range(5)],
    )

    assert answer.status_code == 400
    assert answer.json()["error"]
    assert Photo.objects.count() == 0
