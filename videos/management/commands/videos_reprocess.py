"""Queue metadata, thumbnail, proxy or analysis jobs again for chosen videos."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from jobs.errors import JobStateConflict
from videos import selectors
from videos import services
from videos.models import EncodingProfile
from videos.models import Video


class Command(BaseCommand):
    help = (
        "Queue jobs again for videos: by id, --status, or --all. "
        "E.g. `videos_reprocess --status failed --jobs proxy`."
    )

    def add_arguments(self, parser):
        parser.add_argument("video_ids", nargs="*", help="video ids")
        parser.add_argument("--status", choices=Video.Status.values)
        parser.add_argument("--all", action="store_true", help="every video")
        parser.add_argument(
            "--jobs",
            default="proxy",
            help=f"comma-separated, of {', '.join(services.JOB_NAMES)} (default: proxy)",
        )
        parser.add_argument(
            "--profile", help="profile slug for proxy (default: the default)"
        )
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args, **options):
        jobs = [name.strip() for name in options["jobs"].split(",") if name.strip()]
        unknown = set(jobs) - set(services.JOB_NAMES)
        if unknown or not jobs:
            raise CommandError(f"--jobs takes {', '.join(services.JOB_NAMES)}")
        profile = None
        if options["profile"]:
            profile = EncodingProfile.objects.filter(slug=options["profile"]).first()
            if profile is None:
                raise CommandError(f"no profile {options['profile']!r}")
        videos = selectors.video_list()
        if options["video_ids"]:
            videos = videos.filter(pk__in=options["video_ids"])
        elif options["status"]:
            videos = videos.filter(status=options["status"])
        elif not options["all"]:
            raise CommandError("name video ids, or give --status or --all")
        count = 0
        for video in videos.order_by("created_at"):
            if options["dry_run"]:
                self.stdout.write(f"would queue {','.join(jobs)} for {video.id}")
                count += 1
                continue
            try:
                queued = services.video_reprocess(
                    video=video, jobs=jobs, profile=profile
                )
            except (ValidationError, JobStateConflict) as error:
                self.stderr.write(f"{video.id}: {error}")
                continue
            count += 1
            refs = ", ".join(f"{name} {job.id}" for name, job in queued.items())
            self.stdout.write(f"{video.id}: {refs}")
        self.stdout.write(f"{count} video(s)")
