from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from yuyue.core.errors import TABLE_END, TABLE_START, catalogue_table


class Command(BaseCommand):
    help = "Print every refusal code as a Markdown table, or write it into docs/api.md."

    def add_arguments(self, parser):
        parser.add_argument(
            "--write",
            action="store_true",
            help="Replace the table between the markers in docs/api.md instead of printing it.",
        )

    def handle(self, *args, write=False, **options):
        table = catalogue_table()
        if not write:
            self.stdout.write(table)
            return
        doc = settings.PROJECT_DIR / "docs" / "api.md"
        text = doc.read_text(encoding="utf-8")
        before, start, rest = text.partition(TABLE_START)
        _, end, after = rest.partition(TABLE_END)
        if not start or not end:
            raise CommandError(f"{doc} has no {TABLE_START!r} … {TABLE_END!r} block")
        doc.write_text(f"{before}{start}\n{table}\n{end}{after}", encoding="utf-8")
        self.stdout.write(f"wrote {len(table.splitlines()) - 2} codes into {doc}")
