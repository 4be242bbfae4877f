"""Settings for the test suite and for the server processes the concurrency tests start."""

from yuyue.settings import *  # noqa: F403

# Tests create many people; a slow password hasher would only measure itself.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
