"""Rating names and how an interval reads on a button."""

from __future__ import annotations

RATING_NAMES = {1: "again", 2: "hard", 3: "good", 4: "easy"}
RATING_OF_NAME = {name: rating for rating, name in RATING_NAMES.items()}


def human_interval(seconds: int) -> str:
    """An interval as a button shows it: 10m, 3h, 12d, 2.5mo, 1.2y."""
    if seconds < 3600:
        return f"{max(1, round(seconds / 60))}m"
    if seconds < 86400:
        return f"{round(seconds / 3600)}h"
    days = round(seconds / 86400)
    if days < 31:
        return f"{days}d"
    if days < 365:
        return f"{days / 30.4:.1f}mo"
    return f"{days / 365:.1f}y"
