"""The videos app's REST resources, registered on the project's one router."""

from rest_framework.routers import BaseRouter

from videos.api.tus import TusUploadViewSet
from videos.api.views import MultipartUploadViewSet
from videos.api.views import ProfileViewSet
from videos.api.views import RenditionViewSet
from videos.api.views import VideoViewSet


def register(router: BaseRouter) -> None:
    """Register this app's ViewSets (plural kebab-case prefix, singular basename)."""
    # The upload prefixes come first: `videos/<id>/` must not swallow them.
    router.register("videos/uploads", TusUploadViewSet, basename="video-upload")
    router.register(
        "videos/multipart-uploads",
        MultipartUploadViewSet,
        basename="video-multipart-upload",
    )
    router.register("videos", VideoViewSet, basename="video")
    router.register("renditions", RenditionViewSet, basename="rendition")
    router.register("profiles", ProfileViewSet, basename="profile")
