"""Key points may declare keywords for mock-interview answer matching (a nested bullet
"keywords: a, b"); the bullet is not shown, and cards without one render as before."""

from __future__ import annotations

from app.content.render import render_card


def key_points(source: str, lang: str = "en") -> list[dict[str, object]]:
    sections = {"Question": "q", "Answer": "a", "Key points": source}
    return render_card(lang, "t", sections).key_points


def test_a_keywords_bullet_becomes_keywords_and_is_not_shown() -> None:
    points = key_points(
        "- Uses running averages at inference\n"
        "  - keywords: running mean, moving average\n"
        "- 推理时用滑动平均\n"
        "  - 关键词：滑动平均；移动平均\n"
    )
    assert points[0] == {
        "html": "Uses running averages at inference",
        "text": "Uses running averages at inference",
        "keywords": ["running mean", "moving average"],
    }
    assert points[1]["keywords"] == ["滑动平均", "移动平均"]
    assert "keywords" not in str(points[0]["html"])


def test_ordinary_sub_bullets_stay_and_no_keywords_key_appears() -> None:
    (point,) = key_points("- A point\n  - a real sub point\n")
    assert "keywords" not in point
    assert "<li>a real sub point</li>" in str(point["html"])
