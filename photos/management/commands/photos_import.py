"""manage.py photos_import DIR --session NAME --owner USER: import a folder of photos."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.core.management.base import CommandError
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from photos import services
from photos.errors import PhotoError

# Files no camera or phone writes as a photo: skipped, not reported as refused.
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}
IGNORED_SUFFIXES = {".xmp", ".thm", ".aae", ".json", ".txt"}


class Command(BaseCommand):
    help = (
        "Import every file of a folder into a session (created if missing); each "
        "file's outcome is listed and the exit code is 1 when any was refused."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path)
        parser.add_argument("--session", required=True, help="session name")
        parser.add_argument(
            "--owner", required=True, help="username the photos belong to"
        )
        parser.add_argument(
            "--recursive", action="store_true", help="also import sub-folders"
        )
        parser.add_argument(
            "--no-analyze",
            action="store_true",
            help="store only; queue no EXIF or analysis job",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar"
        )

    def handle(self, *args, **options):
        directory: Path = options["directory"]
        if not directory.is_dir():
            raise CommandError(f"{directory} is not a folder")
        owner = get_user_model().objects.filter(username=options["owner"]).first()
        if owner is None:
            raise CommandError(f"no user {options['owner']!r}")
        files = self._files(directory, recursive=options["recursive"])
        if not files:
            raise CommandError(f"no files in {directory}")
        session, created = services.session_get_or_create(
            owner=owner, name=options["session"]
        )
        if created:
            self.stdout.write(f"session {session.name!r} created (id {session.pk})")
        counts = {"stored": 0, "already stored": 0, "refused": 0}
        bar = tqdm(
            files,
            unit="photo",
            disable=options["no_progress"],
            file=self.stderr._out,
            dynamic_ncols=True,
        )
        # Log lines go through the bar, so they don't tear it.
        with logging_redirect_tqdm():
            for path in bar:
                outcome = self._import(path, owner, session, not options["no_analyze"])
                counts[outcome[0]] += 1
                bar.write(
                    f"{path.relative_to(directory)}: {outcome[1]}",
                    file=self.stdout._out,
                )
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(f"session {session.name!r}: {summary}")
        if counts["refused"]:
            raise CommandError(f"{counts['refused']} file(s) refused", returncode=1)

    def _files(self, directory: Path, *, recursive: bool) -> list[Path]:
        pattern = "**/*" if recursive else "*"
        return sorted(
            path
            for path in directory.glob(pattern)
            if path.is_file()
            and path.name not in IGNORED_NAMES
            and not path.name.startswith("._")
            and path.suffix.lower() not in IGNORED_SUFFIXES
        )

    def _import(self, path: Path, owner, session, analyze: bool) -> tuple[str, str]:
        try:
            services.size_check(path.stat().st_size)
            result = services.photo_import(
                owner=owner,
                data=path.read_bytes(),
                name=path.name,
                session=session,
                analyze=analyze,
            )
        except PhotoError as exc:
            return "refused", f"refused ({exc.status} {exc.code}): {exc.detail}"
        except OSError as exc:
            return "refused", f"refused (unreadable): {exc}"
        photo = result.photo
        if not result.created:
            return "already stored", f"already stored as photo {photo.pk}"
        size = f"{photo.width}x{photo.height}"
        return "stored", f"stored as photo {photo.pk} ({photo.format} {size})"
