from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from jobs import selectors
from jobs import services
from jobs.errors import JobStateConflict
from jobs.management.commands._terminal import job_id_or_error
from jobs.management.commands._terminal import progress_bar
from jobs.management.commands._terminal import queue_or_error
from jobs.models import ProcessingJob


class Command(BaseCommand):
    help = (
        "Queue a failed or cancelled job again as a new attempt, "
        "or every failed job with --all-failed (optionally of one --type or --queue)."
    )

    def add_arguments(self, parser):
        parser.add_argument("job_id", nargs="?", help="The job's id (a UUID).")
        parser.add_argument(
            "--all-failed", action="store_true", help="Retry every failed job."
        )
        parser.add_argument(
            "--type",
            dest="job_type",
            metavar="TYPE",
            help="With --all-failed: only this job type.",
        )
        parser.add_argument("--queue", help="With --all-failed: only this queue.")

    def handle(self, *args, **options):
        if options["all_failed"]:
            if options["job_id"]:
                raise CommandError("give either a job id or --all-failed, not both")
            self._retry_all_failed(job_type=options["job_type"], queue=options["queue"])
            return
        if not options["job_id"]:
            raise CommandError("give a job id, or --all-failed")
        if options["job_type"] or options["queue"]:
            raise CommandError("--type and --queue go with --all-failed")
        job_id = job_id_or_error(options["job_id"])
        try:
            job = services.job_retry(job_id=job_id)
        except ProcessingJob.DoesNotExist:
            raise CommandError(f"no job with id {job_id}") from None
        except JobStateConflict as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Retried job {job.id} ({job.job_type}): queued on {job.queue}."
            )
        )

    def _retry_all_failed(self, *, job_type: str | None, queue: str | None) -> None:
        filters = {"status": ProcessingJob.Status.FAILED}
        if job_type:
            filters["job_type"] = job_type
        if queue:
            filters["queue"] = queue_or_error(queue)
        job_ids = list(
            selectors.job_list(filters=filters)
            .order_by("queued_at")
            .values_list("id", flat=True)
        )
        if not job_ids:
            self.stdout.write("No failed jobs to retry.")
            return
        retried, skipped = 0, []
        with progress_bar(
            stream=self.stderr, total=len(job_ids), desc="retrying"
        ) as bar:
            for job_id in job_ids:
                try:
                    services.job_retry(job_id=job_id)
                except (JobStateConflict, ProcessingJob.DoesNotExist) as exc:
                    skipped.append(f"{job_id}: {exc}")
                else:
                    retried += 1
                bar.update(1)
        self.stdout.write(self.style.SUCCESS(f"Retried {retried} failed job(s)."))
        if skipped:
            self.stdout.write(
                self.style.WARNING(
                    f"Skipped {len(skipped)} job(s) that changed meanwhile:"
                )
            )
            for line in skipped:
                self.stdout.write(f"  {line}")
