from django.contrib.auth.backends import ModelBackend

from yuyue.core.errors import DomainError

from .models import User


class PhonePasswordBackend(ModelBackend):
    """Sign in with a phone number (any common way of writing it) and a password."""

    def authenticate(self, request, username=None, password=None, phone=None, **kwargs):
        raw = phone or username
        if not raw or not password:
            return None
        try:
            user = User.objects.get_by_phone(raw)
        except (DomainError, User.DoesNotExist):
            User().set_password(password)  # same work either way: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
