"""`manage.py backup [folder]`: the database and the uploaded files (yuyue.core.backups)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yuyue.core.backups import BackupError, backup


class Command(BaseCommand):
    help = "Back up the database (a consistent snapshot while serving) and the uploaded files."

    def add_arguments(self, parser):
        parser.add_argument(
            "folder",
            nargs="?",
            default=str(Path(settings.VAR_DIR) / "backups"),
            help="where the new backup folder goes (default: var/backups)",
        )

    def handle(self, *, folder, **options):
        try:
            out = backup(Path(folder))
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(out))
