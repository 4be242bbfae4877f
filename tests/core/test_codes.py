"""Check-in codes: every character equally likely, from the unambiguous alphabet."""

from __future__ import annotations

from yuyue.core import codes


def test_bytes_that_would_bias_the_alphabet_are_skipped(monkeypatch):
    alphabet = codes.CHECKIN_ALPHABET
    draws = iter([bytes([0, 232, 28, 255, 29, 231]) + bytes(14), bytes(20)])
    monkeypatch.setattr(codes.secrets, "token_bytes", lambda n: next(draws))
    # 232 and 255 are skipped (232 = 8 × 29: above it some characters would come up more often)
    assert codes.new_checkin_code() == alphabet[0] + alphabet[28] + alphabet[0] + alphabet[28] + (
        alphabet[0] * 6
    )


def test_codes_use_the_alphabet_evenly():
    seen = "".join(codes.new_checkin_code() for _ in range(3000))
    assert len(seen) == 30000 and set(seen) <= set(codes.CHECKIN_ALPHABET)
    counts = [seen.count(c) for c in codes.CHECKIN_ALPHABET]
    # 30,000 draws over 29 characters: about 1,034 each (standard deviation about 32), so every
    # character comes up and none far from its share; the subtle bias is the test above
    assert min(counts) > 730 and max(counts) < 1340
