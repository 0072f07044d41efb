"""Every loader error names its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DEMO, card_text, translation_text

from app.content.tree import load_deck


def problems_of(content_dir: Path) -> list[tuple[str, int, str]]:
    deck = load_deck(content_dir)
    return [(p.path.relative_to(content_dir).as_posix(), p.line, p.message) for p in deck.problems]


def assert_one(content_dir: Path, path: str, line: int, fragment: str) -> None:
    found = problems_of(content_dir)
    assert len(found) == 1, found
    assert found[0][:2] == (path, line), found
    assert fragment in found[0][2], found


CARD = "cards/basics/first-card.md"


def test_valid_card_with_translation_loads(content_dir, write, demo):
    write(
        CARD,
        card_text(
            demo="demo:\n  path: demos/example.py\n  params: {depth: 3}\n  proves: [first-claim]",
            extra="tags: [basics, gradients]\nsource: 000_693752ffcdca7e64.txt\n"
            "answer_time_s: 90\naliases: [old-first]\n",
        ),
    )
    write("cards/basics/first-card.zh.md", translation_text())
    deck = load_deck(content_dir)
    assert deck.problems == []
    card = deck.cards["first-card"]
    assert set(card.files) == {"en", "zh"}
    assert card.meta.source == ["000_693752ffcdca7e64.txt"]
    assert card.meta.demo is not None and card.meta.demo.params == {"depth": 3}
    assert deck.resolve("old-first") == "first-card"
    assert str(deck.problems) == "[]"


@pytest.mark.parametrize(
    ("extra", "line", "fragment"),
    [
        ("colour: red\n", 7, 'unknown key "colour"'),
        ("tags: gradients\n", 7, 'wrong type for "tags": expected a list, got text'),
        ("answer_time_s: '90'\n", 7, 'wrong type for "answer_time_s"'),
        ("tags: [Big Tag]\n", 7, 'invalid "tags.0"'),
        ("lang: 7\n", 7, 'wrong type for "lang"'),
    ],
)
def test_front_matter_key_errors_point_at_the_key(content_dir, write, extra, line, fragment):
    write(CARD, card_text(extra=extra))
    assert_one(content_dir, CARD, line, fragment)


def test_wrong_value_points_at_the_key(content_dir, write):
    write(CARD, card_text().replace("difficulty: medium", "difficulty: brutal"))
    assert_one(content_dir, CARD, 5, 'invalid "difficulty"')


def test_missing_required_field(content_dir, write):
    write(CARD, card_text().replace("deck: training/basics\n", ""))
    assert_one(content_dir, CARD, 1, 'missing required field "deck"')


def test_unknown_nested_demo_key(content_dir, write, demo):
    write(CARD, card_text(demo="demo:\n  path: demos/example.py\n  prove: [first-claim]"))
    assert_one(content_dir, CARD, 8, 'unknown key "demo.prove"')


def test_missing_section(content_dir, write):
    write(CARD, card_text(body="## Question\nWhat?\n"))
    assert_one(content_dir, CARD, 8, 'missing section "## Answer"')


def test_unknown_section_names_the_heading(content_dir, write):
    write(CARD, card_text(body="## Question\nQ\n\n## Answer\nA\n\n## Pitfals\nP\n"))
    assert_one(content_dir, CARD, 14, 'unknown section "## Pitfals" (did you mean "## Pitfalls"?)')


def test_duplicate_section(content_dir, write):
    write(CARD, card_text(body="## Question\nQ\n\n## Answer\nA\n\n## Answer\nB\n"))
    assert_one(content_dir, CARD, 14, 'duplicate section "## Answer" (first at line 11)')


def test_heading_inside_code_is_not_a_section(content_dir, write):
    body = "## Question\nQ\n\n```python\n## Not a section\n```\n\n## Answer\nA\n"
    write(CARD, card_text(body=body))
    assert problems_of(content_dir) == []


def test_code_without_language(content_dir, write):
    write(CARD, card_text(body="## Question\nQ\n\n```\nx = 1\n```\n\n## Answer\nA\n"))
    assert_one(content_dir, CARD, 11, "code block without a language tag")


def test_key_points_must_be_a_list(content_dir, write):
    write(CARD, card_text(body="## Question\nQ\n\n## Answer\nA\n\n## Key points\nprose\n"))
    assert_one(content_dir, CARD, 15, 'section "## Key points" must be a bullet list')


def test_empty_section(content_dir, write):
    write(CARD, card_text(body="## Question\n\n## Answer\nA\n"))
    assert_one(content_dir, CARD, 8, 'empty section "## Question"')


def test_duplicate_id_names_both_files(content_dir, write):
    write("cards/a/first-card.md", card_text())
    write("cards/b/first-card.md", card_text())
    found = problems_of(content_dir)
    assert [(p, line) for p, line, _ in found] == [
        ("cards/a/first-card.md", 2),
        ("cards/b/first-card.md", 2),
    ]
    assert f"{content_dir}/cards/b/first-card.md:2" in found[0][2]
    assert f"{content_dir}/cards/a/first-card.md:2" in found[1][2]
    assert load_deck(content_dir).cards == {}


def test_dangling_link(content_dir, write):
    body = "## Question\nQ\n\n## Answer\nA\n\n## Follow-ups\n- see [[no-such-card]]\n"
    write(CARD, card_text(body=body))
    assert_one(content_dir, CARD, 15, "dangling link [[no-such-card]]")


def test_links_resolve_to_cards_and_aliases(content_dir, write):
    body = "## Question\nSee [[second-card]] and [[old-second]].\n\n## Answer\nA `[[in-code]]`\n"
    write(CARD, card_text(body=body))
    write("cards/basics/second-card.md", card_text("second-card", extra="aliases: [old-second]\n"))
    assert problems_of(content_dir) == []
    assert load_deck(content_dir).cards["first-card"].links == {"second-card"}


def test_missing_demo_file(content_dir, write):
    write(CARD, card_text(demo="demo:\n  path: demos/nowhere.py\n  proves: [x]"))
    assert_one(content_dir, CARD, 7, 'demo "demos/nowhere.py": file not found')


def test_claim_missing_from_demo_points_at_the_claim(content_dir, write, demo):
    proves = "demo:\n  path: demos/example.py\n  proves:\n    - first-claim\n    - made-up"
    write(CARD, card_text(demo=proves))
    assert_one(content_dir, CARD, 10, 'claim "made-up" is not in the CLAIMS of demos/example.py')


def test_claims_are_read_without_importing_the_demo(content_dir, write, tmp_path):
    marker = tmp_path / "imported"
    write(
        "demos/example.py",
        f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(3)\n" + DEMO,
    )
    write(CARD, card_text(demo="demo:\n  path: demos/example.py\n  proves: [second-claim]"))
    assert problems_of(content_dir) == []
    assert not marker.exists()


def test_unknown_demo_param_names_the_key(content_dir, write, demo):
    write(CARD, card_text(demo="demo:\n  path: demos/example.py\n  params: {dept: 3}"))
    assert_one(content_dir, CARD, 8, 'demo param "dept" is not a parameter of demos/example.py')


def test_out_of_bounds_demo_param_names_the_key(content_dir, write, demo):
    params = "demo:\n  path: demos/example.py\n  params:\n    depth: 41\n  proves: [first-claim]"
    write(CARD, card_text(demo=params))
    assert_one(content_dir, CARD, 8, 'demo param "depth": Input should be less than or equal to 40')


def test_good_demo_params_pass_and_each_demo_loads_once(content_dir, write, demo, monkeypatch):
    import app.content.tree as tree

    loads: list[Path] = []
    real = tree.describe_one

    def counting(path: Path):  # type: ignore[no-untyped-def]
        loads.append(path)
        return real(path)

    monkeypatch.setattr(tree, "describe_one", counting)
    write(CARD, card_text(demo="demo:\n  path: demos/example.py\n  params: {depth: 40}"))
    write(
        "cards/basics/second-card.md",
        card_text("second-card", demo="demo:\n  path: demos/example.py\n  params: {depth: 1}"),
    )
    assert problems_of(content_dir) == []
    assert len(loads) == 1


def test_demo_that_fails_to_import_is_reported_once(content_dir, write):
    write("demos/example.py", DEMO + "raise RuntimeError('boom')\n")
    for name in ("first-card", "second-card"):
        demo = "demo:\n  path: demos/example.py\n  params: {depth: 3}"
        write(f"cards/basics/{name}.md", card_text(name, demo=demo))
    found = problems_of(content_dir)
    assert len(found) == 1, found
    assert found[0][:2] == (CARD, 7), found
    assert 'demo "demos/example.py": import failed: RuntimeError: boom' in found[0][2]


def test_demo_params_are_checked_on_a_cached_load(content_dir, write, demo, tmp_path):
    write(CARD, card_text(demo="demo:\n  path: demos/example.py\n  params: {depth: 99}"))
    cache = tmp_path / "parse.cache"
    first = load_deck(content_dir, cache_path=cache)
    again = load_deck(content_dir, cache_path=cache)
    assert [p.message for p in first.problems] == [p.message for p in again.problems]
    assert len(again.problems) == 1 and '"depth"' in again.problems[0].message


def test_demo_without_literal_claims(content_dir, write):
    write("demos/example.py", "CLAIMS = dict(a='b')\n")
    write(CARD, card_text(demo="demo:\n  path: demos/example.py\n  proves: [a]"))
    assert_one(content_dir, CARD, 7, "CLAIMS is not a literal dict")


def test_translation_without_original(content_dir, write):
    write("cards/basics/first-card.zh.md", translation_text())
    assert_one(content_dir, "cards/basics/first-card.zh.md", 1, "translation without an original")


def test_translation_with_mismatched_id(content_dir, write):
    write(CARD, card_text())
    write("cards/basics/first-card.zh.md", translation_text("other-card"))
    assert_one(content_dir, "cards/basics/first-card.zh.md", 2, 'id "other-card" does not match')


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [("deck: other\n", 'unknown key "deck"'), ("difficulty: hard\n", 'unknown key "difficulty"')],
)
def test_translation_with_extra_keys(content_dir, write, extra, fragment):
    write(CARD, card_text())
    write("cards/basics/first-card.zh.md", translation_text(extra=extra))
    assert_one(content_dir, "cards/basics/first-card.zh.md", 5, fragment)


def test_translation_lang_must_match_file_name(content_dir, write):
    write(CARD, card_text())
    write("cards/basics/first-card.zh.md", translation_text(lang="ja"))
    assert_one(content_dir, "cards/basics/first-card.zh.md", 3, 'lang "ja" does not match')


def test_invalid_utf8_names_the_line(content_dir, write):
    raw = card_text(body="## Question\nQ\n\n## Answer\nA caf\xe9\n").encode("utf-8")
    raw = raw.replace("caf\xe9".encode(), b"caf\xe9")
    write(CARD, raw)
    assert_one(content_dir, CARD, 12, "invalid UTF-8 (byte 0xe9 at column 6)")


def test_file_over_one_mib(content_dir, write):
    write(CARD, card_text(body=BODY_WITH("x" * (5 * 1024 * 1024))))
    assert_one(content_dir, CARD, 1, "the limit is 1 MiB")


def BODY_WITH(line: str) -> str:  # noqa: N802
    return f"## Question\n{line}\n\n## Answer\nA\n"


@pytest.mark.parametrize(
    ("front", "line"),
    [("- just\n- a list\n", 2), ("just a sentence\n", 2)],
)
def test_yaml_that_is_not_a_mapping(content_dir, write, front, line):
    write(CARD, f"---\n{front}---\n## Question\nQ\n\n## Answer\nA\n")
    assert_one(content_dir, CARD, line, "must be a mapping")


def test_invalid_yaml(content_dir, write):
    write(CARD, card_text(extra="tags: [a, b\n"))
    (found,) = problems_of(content_dir)
    assert found[0] == CARD and "invalid YAML" in found[2]


def test_yaml_anchors_and_aliases_are_refused(content_dir, write):
    write(CARD, card_text(extra="tags: &t [a]\nsource: *t\n"))
    found = problems_of(content_dir)
    assert [(line, message.split(" ")[1]) for _, line, message in found] == [
        (7, "anchor"),
        (8, "alias"),
    ]


def test_duplicate_yaml_key(content_dir, write):
    write(CARD, card_text(extra="title: Again\n"))
    assert_one(content_dir, CARD, 7, 'duplicate key "title"')


@pytest.mark.parametrize(
    "bad_id",
    ["First-Card", "first_card", "first--card", "-first", "a" * 65],
)
def test_invalid_id(content_dir, write, bad_id):
    write(f"cards/basics/{bad_id}.md", card_text(bad_id))
    assert_one(content_dir, f"cards/basics/{bad_id}.md", 2, 'invalid "id"')


def test_id_must_match_file_name(content_dir, write):
    write("cards/basics/renamed.md", card_text())
    assert_one(
        content_dir, "cards/basics/renamed.md", 2, 'id "first-card" does not match the file name'
    )


@pytest.mark.parametrize(
    ("src", "fragment"),
    [
        ("../../../secret.png", "leaves content/"),
        ("https://evil.example/x.png", "must be a path relative to the card"),
        ("/etc/passwd", "must be a path relative to the card"),
        ("missing.png", "not found"),
    ],
)
def test_images_stay_inside_content(content_dir, write, src, fragment):
    write(CARD, card_text(body=f"## Question\n![diagram]({src})\n\n## Answer\nA\n"))
    assert_one(content_dir, CARD, 9, fragment)


def test_image_inside_content_is_fine(content_dir, write):
    write("cards/basics/diagram.png", b"\x89PNG")
    write(CARD, card_text(body="## Question\n![diagram](diagram.png)\n\n## Answer\nA\n"))
    assert problems_of(content_dir) == []


def test_alias_clashing_with_another_card_id(content_dir, write):
    write(CARD, card_text(extra="aliases: [second-card]\n"))
    write("cards/basics/second-card.md", card_text("second-card"))
    assert_one(content_dir, CARD, 7, 'alias "second-card" clashes with the id of another card')


def test_alias_claimed_twice(content_dir, write):
    write(CARD, card_text(extra="aliases: [old]\n"))
    write("cards/basics/second-card.md", card_text("second-card", extra="aliases: [old]\n"))
    assert_one(content_dir, "cards/basics/second-card.md", 7, 'alias "old" is also claimed by')


def test_problems_print_as_path_line_message(content_dir, write):
    write(CARD, card_text(body="## Question\nQ\n\n## Answer\nA\n\n## Pitfals\nP\n"))
    (problem,) = load_deck(content_dir).problems
    assert str(problem) == f'{content_dir}/{CARD}:14: unknown section "## Pitfals" ' + (
        '(did you mean "## Pitfalls"?)'
    )


def test_missing_cards_directory(tmp_path):
    (problem,) = load_deck(tmp_path).problems
    assert problem.message == "no cards directory here"
