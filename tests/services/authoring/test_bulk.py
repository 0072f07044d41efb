"""Bulk uploads: refused outright when unsafe, otherwise checked like `backprop check`."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

import pytest

from app.services.authoring.bulk import (
    DEFAULT_LIMITS,
    Limits,
    UploadRefused,
    check_upload,
    read_upload,
)
from app.services.authoring.serialize import CardFields, card_to_markdown


def card(card_id: str, deck: str = "optimization", answer: str = "Because.") -> str:
    return card_to_markdown(
        CardFields(
            id=card_id,
            title=card_id.replace("-", " ").capitalize(),
            deck=deck,
            difficulty="easy",
            sections={"Question": "Why?", "Answer": answer},
        )
    )


def make_zip(members: dict[str, bytes | str], *, level: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_lone_card_goes_to_its_deck_folder() -> None:
    files = read_upload("momentum.md", card("momentum").encode())
    assert [(f.name, f.target) for f in files] == [
        ("momentum.md", "cards/optimization/momentum.md")
    ]


def test_zip_paths_map_under_cards() -> None:
    data = make_zip(
        {
            "optimization/momentum.md": card("momentum"),
            "content/cards/optimization/rmsprop.md": card("rmsprop"),
            "cards/optimization/adam.md": card("adam"),
            "optimization/": "",
        }
    )
    targets = sorted(f.target for f in read_upload("cards.zip", data))
    assert targets == [
        "cards/optimization/adam.md",
        "cards/optimization/momentum.md",
        "cards/optimization/rmsprop.md",
    ]


def refused(name: str, data: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(UploadRefused) as info:
        read_upload(name, data, limits)
    return "\n".join(info.value.reasons)


def test_not_markdown_nor_zip() -> None:
    assert "not a Markdown card" in refused("notes.txt", b"hello")


def test_broken_zip() -> None:
    assert "not a valid zip" in refused("cards.zip", b"PK\x03\x04 not really")


def test_non_markdown_member() -> None:
    data = make_zip({"optimization/momentum.md": card("momentum"), "run.py": "import os"})
    assert "run.py: not a Markdown file" in refused("cards.zip", data)


@pytest.mark.parametrize("name", ["../evil.md", "a/../../evil.md", "/etc/evil.md", "C:/evil.md"])
def test_path_leaving_the_content_directory(name: str) -> None:
    assert "leaves the content directory" in refused("cards.zip", make_zip({name: card("evil")}))


def test_backslash_path() -> None:
    assert "leaves the content directory" in refused(
        "cards.zip", make_zip({"..\\..\\evil.md": card("evil")})
    )


def test_symlink_member() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("optimization/link.md")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(info, "/etc/passwd")
    assert "symbolic links are refused" in refused("cards.zip", buffer.getvalue())


def test_zip_bomb_by_ratio() -> None:
    data = make_zip({"optimization/bomb.md": b"a" * (900 << 10)})
    assert len(data) < 10 << 10
    assert "zip bomb" in refused("bomb.zip", data)


def test_zip_bomb_by_total_size() -> None:
    members = {f"d/c{i}.md": b"x" * (600 << 10) for i in range(4)}
    message = refused("bomb.zip", make_zip(members), Limits(max_total_bytes=2 << 20))
    assert "zip bomb" in message and "unpacked" in message


def test_zip_bomb_by_member_count() -> None:
    members = {f"d/c{i}.md": "x" for i in range(30)}
    assert "30 entries" in refused("many.zip", make_zip(members), Limits(max_members=20))


def test_member_lying_about_its_size() -> None:
    # A member that inflates past the size its header declares is cut off and refused.
    data = bytearray(make_zip({"d/liar.md": b"y" * 5000}, level=zipfile.ZIP_STORED))
    header_size_at = 22  # local header: uncompressed size
    central = data.rfind(b"PK\x01\x02")
    for offset in (header_size_at, central + 24):
        data[offset : offset + 4] = (100).to_bytes(4, "little")
    with pytest.raises((UploadRefused, zipfile.BadZipFile)):
        read_upload("liar.zip", bytes(data))


def test_duplicate_member() -> None:
    data = make_zip({"optimization/a.md": card("a"), "cards/optimization/a.md": card("a")})
    assert "appears twice" in refused("dup.zip", data)


def test_too_large_upload() -> None:
    assert "the limit is" in refused("big.md", b"x" * 2048, Limits(max_upload_bytes=1024))


def test_every_problem_is_listed_with_file_and_line(content_dir: Path) -> None:
    (content_dir / "cards" / "optimization").mkdir()
    (content_dir / "cards" / "optimization" / "momentum.md").write_text(card("momentum"))
    broken = card("rmsprop").replace("difficulty: easy", "difficulty: extreme")
    broken = broken.replace("## Answer", "## Answr")
    dangling = card("adam", answer="See [[no-such-card]].")
    duplicate = card("momentum").replace("Why?", "Again?")
    files = read_upload(
        "cards.zip",
        make_zip(
            {
                "optimization/rmsprop.md": broken,
                "optimization/adam.md": dangling,
                "other/momentum.md": duplicate.replace("deck: optimization", "deck: other"),
            }
        ),
    )
    problems = [str(p) for p in check_upload(content_dir, files)]
    text = "\n".join(problems)
    assert "optimization/rmsprop.md:5: " in text and "difficulty" in text
    assert 'optimization/rmsprop.md:11: unknown section "## Answr"' in text
    assert "optimization/adam.md:" in text and "[[no-such-card]]" in text
    assert "other/momentum.md:2: duplicate id" in text
    assert "content/cards/optimization/momentum.md:2: duplicate id" in text
    assert "also in other/momentum.md:2" in text  # never the staging copy's path
    assert "backprop-upload" not in text


def test_a_clean_upload_has_no_problems(content_dir: Path) -> None:
    files = read_upload("cards.zip", make_zip({"optimization/momentum.md": card("momentum")}))
    assert check_upload(content_dir, files) == []
    assert not (content_dir / "cards" / "optimization").exists()  # checked on a copy
