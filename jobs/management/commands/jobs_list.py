from django.core.management.base import BaseCommand

from jobs import selectors
from jobs.management.commands._terminal import queue_or_error
from jobs.management.commands._terminal import table
from jobs.models import ProcessingJob


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "List jobs, newest first, with optional filters."

    def add_arguments(self, parser):
        parser.add_argument("--status", choices=ProcessingJob.Status.values)
        parser.add_argument(
            "--type",
            dest="job_type",
            metavar="TYPE",
            help="Job type, e.g. jobs.diagnostic.",
        )
        parser.add_argument("--queue")
        parser.add_argument(
            "--limit",
            type=_positive,
            default=50,
            help="At most this many (default 50).",
        )

    def handle(self, *args, **options):
        filters = {}
        if options["status"]:
            filters["status"] = options["status"]
        if options["job_type"]:
            filters["job_type"] = options["job_type"]
        if options["queue"]:
            filters["queue"] = queue_or_error(options["queue"])
        jobs = selectors.job_list(filters=filters)
        shown = list(jobs[: options["limit"]])
        if not shown:
            self.stdout.write("No jobs match." if filters else "No jobs.")
            return
        self.stdout.write(
            table(
                [
                    "id",
                    "status",
                    "type",
                    "queue",
                    "prio",
                    "attempts",
                    "progress",
                    "queued at",
                    "run time",
                    "error",
                ],
                [
                    (
                        str(job.id),
                        job.status,
                        job.job_type,
                        job.queue,
                        job.priority,
                        f"{job.attempts}/{job.max_retries + 1}",
                        f"{job.progress}%",
                        job.queued_at.strftime("%Y-%m-%d %H:%M:%S"),
                        "—" if job.duration_s is None else f"{job.duration_s:.2f} s",
                        _one_line(job.error_message, 60),
                    )
                    for job in shown
                ],
            )
        )
        total = jobs.count() if len(shown) == options["limit"] else len(shown)
        self.stdout.write(f"\n{len(shown)} of {total} job(s) shown.")


def _one_line(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
