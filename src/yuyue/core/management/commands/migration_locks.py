"""`manage.py migration_locks`: the migrations not shipped yet that would lock a hot table while
the old release serves (core.migration_locks); exit status 1 if any. `--ship` records every
migration of the tree as shipped (run it when a release goes out)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from yuyue.core.migration_locks import all_migrations, find_locks, shipped_file


class Command(BaseCommand):
    help = "List the unshipped migrations that would lock a hot table during an upgrade."

    def add_arguments(self, parser):
        parser.add_argument("--ship", action="store_true", help="record every migration shipped")

    def handle(self, *args, ship=False, **options):
        if ship:
            names = all_migrations()
            shipped_file().write_text(
                "# Migrations already released (manage.py migration_locks --ship): not held to\n"
                "# the online-upgrade rules (docs/operations.md, 'Upgrades').\n"
                + "".join(f"{n}\n" for n in names)
            )
            self.stdout.write(f"{len(names)} migrations recorded as shipped")
            return
        locks = find_locks()
        for lock in locks:
            self.stdout.write(f"{lock.migration}: {lock.operation} on {lock.table}: {lock.why}")
        if locks:
            raise CommandError(f"{len(locks)} operation(s) would lock a hot table while serving")
        self.stdout.write("no unshipped migration locks a hot table")
