"""Reads of the videos app: visibility in one place, queries that do not grow with rows."""

import pytest

from videos import selectors
from videos.tests.factories import RenditionFactory
from videos.tests.factories import UploadFactory
from videos.tests.factories import UploadPartFactory
from videos.tests.factories import VideoFactory

pytestmark = pytest.mark.django_db


def test_video_list_is_scoped_and_loads_renditions_in_three_queries(
    user, other_user, staff_user, django_assert_num_queries
):
    for owner in (user, user, other_user):
        RenditionFactory(video=VideoFactory(owner=owner))

    with django_assert_num_queries(2):
        mine = list(selectors.video_list(user=user))
        for video in mine:
            [rendition.profile.slug for rendition in video.renditions.all()]

    assert len(mine) == 2
    assert selectors.video_list(user=staff_user).count() == 3
    assert selectors.video_list(user=None).count() == 3


def test_anonymous_users_see_nothing(django_user_model):
    from django.contrib.auth.models import AnonymousUser

    VideoFactory()

    assert selectors.video_list(user=AnonymousUser()).count() == 0


def test_rendition_list_follows_the_video_owner(
    user, other_user, django_assert_num_queries
):
    RenditionFactory(video__owner=user)
    RenditionFactory(video__owner=other_user)

    with django_assert_num_queries(1):
        renditions = list(selectors.rendition_list(user=user))
        [(r.video.owner.username, r.profile.slug) for r in renditions]

    assert len(renditions) == 1


def test_upload_list_brings_part_numbers_in_one_more_query(
    user, django_assert_num_queries
):
    upload = UploadFactory(owner=user)
    UploadPartFactory(upload=upload, number=2)
    UploadPartFactory(upload=upload, number=1)
    UploadFactory(owner=user, protocol="tus")

    with django_assert_num_queries(2):
        uploads = list(selectors.upload_list(user=user, protocol="multipart"))
        numbers = sorted(part.number for part in uploads[0].parts.all())

    assert numbers == [1, 2]


def test_video_proxy_is_the_default_profile_rendition(db):
    video = VideoFactory()
    RenditionFactory(video=video)
    proxy = RenditionFactory(video=video, profile=selectors.profile_default())

    assert selectors.video_proxy(video=selectors.video_get(video_id=video.pk)) == proxy
