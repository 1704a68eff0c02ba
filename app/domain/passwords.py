"""Which passwords are accepted: long enough, and hard to guess by zxcvbn's estimate.

Length alone lets `12345678`, `password` and `aaaaaaaa` through; zxcvbn scores a password by
how many guesses the common patterns (dictionary words, keyboard runs, repeats, dates, the
user's own email) would need.
"""

from __future__ import annotations

from collections.abc import Iterable

from zxcvbn import zxcvbn

MIN_LENGTH = 8
# zxcvbn's 3: "safely unguessable", about 10^8 guesses or more.
MIN_SCORE = 3
# zxcvbn refuses longer input (its time grows with the length); the first 72 characters of a
# password decide its score anyway.
SCORED_LENGTH = 72


def password_problem(password: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why this password is refused, in plain words, or None."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    result = zxcvbn(password[:SCORED_LENGTH], user_inputs=[word for word in user_inputs if word])
    if result["score"] >= MIN_SCORE:
        return None
    feedback = result["feedback"]
    advice = " ".join(part for part in [feedback["warning"], *feedback["suggestions"]] if part)
    return f"This password is too easy to guess. {advice or 'Add more words or characters.'}"
