import os

# Playwright's sync API runs an event loop in this thread; our test data is created before it
# starts, and Django must still let the test's fixtures tear down afterwards.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
