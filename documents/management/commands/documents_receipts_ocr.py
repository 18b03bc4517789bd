"""The receipts OCR queue from the shell: process-all, clear-failed and status per user."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError

from documents import selectors
from documents import services


class Command(BaseCommand):
    help = (
        "Receipts OCR: process-all | clear-failed | status, for --user (status: all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["process-all", "clear-failed", "status"])
        parser.add_argument("--user", help="username")

    def handle(self, *args, action: str, user: str | None, **options):
        owner = None
        if user:
            try:
                owner = get_user_model().objects.get(username=user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no user {user!r}") from None
        if action == "status":
            self.stdout.write(str(selectors.receipt_ocr_counts(user=owner)))
            return
        if owner is None:
            raise CommandError(f"{action} needs --user")
        if action == "process-all":
            queued = services.receipts_ocr_process_all(
                receipts=selectors.receipt_list_unqueued(owner=owner)
            )
            self.stdout.write(f"{len(queued)} receipt(s) queued for OCR")
        else:
            cleared = services.receipts_clear_failed(
                receipts=selectors.receipt_list_owned(owner=owner)
            )
            self.stdout.write(f"{cleared} failed receipt(s) pending again")
