"""Add a local video file as a video of a user, and queue its jobs (the file is copied)."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from videos import services
from videos.errors import VideoError


class Command(BaseCommand):
    help = "Add local video files as videos of a user; their jobs are queued."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", type=Path)
        parser.add_argument("--owner", required=True, help="username of the owner")
        parser.add_argument("--title", default="", help="defaults to the file name")

    def handle(self, *args, **options):
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user {options['owner']!r}")
        failed = 0
        for path in options["paths"]:
            if not path.is_file():
                self.stderr.write(f"{path}: not a file")
                failed += 1
                continue
            try:
                created = services.video_import(
                    owner=owner, path=path, title=options["title"]
                )
            except VideoError as error:
                self.stderr.write(f"{path}: {error.code}: {error.detail}")
                failed += 1
                continue
            job = created.processing_job
            self.stdout.write(
                f"{path}: video {created.video.id}"
                + (f", processing job {job.id}" if job else "")
            )
        if failed:
            raise CommandError(f"{failed} file(s) not imported")
