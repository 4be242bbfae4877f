"""Codes people read and type: check-in codes 核销码 and one-time login codes."""

import secrets

# No 0/O, 1/I/L, or U/V pairs: a code read aloud or typed from a screen is not misread.
CHECKIN_ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
CHECKIN_LENGTH = 10  # 29**10 ≈ 4.2e14 codes: unguessable at any rate we allow


_UNBIASED = len(CHECKIN_ALPHABET) * (256 // len(CHECKIN_ALPHABET))  # 232: bytes below map evenly


def new_checkin_code() -> str:
    """Ten characters drawn uniformly from the alphabet, from one read of the system's random
    source (a byte of 232 or more is skipped, so that every character is equally likely)."""
    out: list[str] = []
    while len(out) < CHECKIN_LENGTH:
        for byte in secrets.token_bytes(2 * CHECKIN_LENGTH):
            if byte < _UNBIASED:
                out.append(CHECKIN_ALPHABET[byte % len(CHECKIN_ALPHABET)])
                if len(out) == CHECKIN_LENGTH:
                    break
    return "".join(out)


def normalize_checkin_code(raw: str) -> str:
    """Accept what a person types: lower case, spaces and dashes."""
    return raw.strip().upper().replace("-", "").replace(" ", "")


def new_otp() -> str:
    return f"{secrets.randbelow(10**6):06d}"
