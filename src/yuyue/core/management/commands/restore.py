"""`manage.py restore <backup folder> [--database-url URL]`: into an empty database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from yuyue.core.backups import BackupError, restore


class Command(BaseCommand):
    help = (
        "Restore a backup into an empty database (default: this platform's, DATABASE_URL) and "
        "its files into MEDIA_ROOT, then check that every table's rows match and the ledger "
        "balances."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder", help="a backup folder made by manage.py backup")
        parser.add_argument("--database-url", help="restore into this database instead")

    def handle(self, *, folder, database_url, **options):
        try:
            manifest = restore(Path(folder), database_url=database_url)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["counts"].values())
        self.stdout.write(
            f"restored the backup of {manifest['created_at']}: {len(manifest['counts'])} tables, "
            f"{rows} rows, all matching; the ledger balances"
        )
