"""Codes people read and type: check-in codes 核销码 and one-time login codes."""

import secrets

# No 0/O, 1/I/L, or U/V pairs: a code read aloud or typed from a screen is not misread.
CHECKIN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CHECKIN_LENGTH = 10  # 29**10 ≈ 4.2e14 codes: unguessable at any rate we allow


def new_checkin_code() -> str:
    return "".join(secrets.choice(CHECKIN_ALPHABET) for _ in range(CHECKIN_LENGTH))


def normalize_checkin_code(raw: str) -> str:
    """Accept what a person types: lower case, spaces and dashes."""
    return raw.strip().upper().replace("-", "").replace(" ", "")


def new_otp() -> str:
    return f"{secrets.randbelow(10**6):06d}"
