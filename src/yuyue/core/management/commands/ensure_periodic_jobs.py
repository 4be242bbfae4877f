from django.core.management.base import BaseCommand

from yuyue.core.periodic import ensure_periodic_jobs


class Command(BaseCommand):
    help = "Enqueue the first run of each periodic background job that has none waiting."

    def handle(self, *args, **options):
        for name in ensure_periodic_jobs():
            self.stdout.write(f"enqueued {name}")
