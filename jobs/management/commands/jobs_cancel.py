from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from jobs import selectors
from jobs import services
from jobs.errors import JobStateConflict
from jobs.management.commands._terminal import job_id_or_error
from jobs.models import ProcessingJob


class Command(BaseCommand):
    help = (
        "Cancel jobs: queued or retrying ones never start, running ones are terminated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "job_ids", nargs="+", metavar="job_id", help="Job ids (UUIDs)."
        )

    def handle(self, *args, **options):
        job_ids = list(
            dict.fromkeys(job_id_or_error(value) for value in options["job_ids"])
        )
        found = set(
            selectors.job_list(filters={"id__in": job_ids}).values_list("id", flat=True)
        )
        unknown = [str(job_id) for job_id in job_ids if job_id not in found]
        if unknown:
            # Nothing is cancelled when any id is wrong: a typo must not half-run the command.
            raise CommandError(
                f"no job with id {', '.join(unknown)}; nothing cancelled"
            )
        not_cancelled = 0
        for job_id in job_ids:
            try:
                job = services.job_cancel(job_id=job_id)
            except (JobStateConflict, ProcessingJob.DoesNotExist) as exc:
                not_cancelled += 1
                self.stderr.write(f"Skipped {job_id}: {exc}")
            else:
                self.stdout.write(
                    self.style.SUCCESS(f"Cancelled job {job.id} ({job.job_type}).")
                )
        if not_cancelled:
            raise CommandError(
                f"{not_cancelled} of {len(job_ids)} job(s) not cancelled"
            )
