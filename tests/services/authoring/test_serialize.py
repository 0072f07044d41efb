"""The serializer writes the canonical layout, and files in that layout survive
parse -> fields -> serialize byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.content.tree import load_deck
from app.services.authoring.serialize import (
    CardFields,
    DemoFields,
    TranslationFields,
    card_from_meta,
    card_to_markdown,
    slugify,
    translation_from_meta,
    translation_to_markdown,
    unique_id,
)

CANONICAL = """\
---
id: vanishing-gradients
title: 'Vanishing gradients: why do they happen?'
deck: training/gradients
tags: [gradients, activations]
difficulty: medium
demo:
  path: demos/vanishing.py
  params: {depth: 20, activation: sigmoid}
  proves: [first-layer-gradient-vanishes]
answer_time_s: 90
source: [000_693752ffcdca7e64.txt]
---
## Question
Why do gradients vanish in a deep sigmoid MLP?

## Answer
Each layer multiplies the gradient by $\\sigma'(z) \\le 1/4$:

$$\\frac{\\partial L}{\\partial h_1} = \\prod_i W_i^\\top \\sigma'(z_i)$$

```python
torch.nn.Sigmoid()
```

## Key points
- the derivative of the sigmoid is at most 1/4
- ReLU with He init keeps the scale

## Pitfalls
Blaming the learning rate.

## Follow-ups
- How does [[exploding-gradients]] differ?
"""

DEMO = '''"""A demo."""
from typing import Literal

from pydantic import BaseModel

CLAIMS = {"first-layer-gradient-vanishes": "The first layer's gradient vanishes."}


class Params(BaseModel):
    depth: int = 10
    activation: Literal["sigmoid", "relu"] = "sigmoid"


def run(params, ctx):
    raise NotImplementedError
'''


def sample() -> CardFields:
    return CardFields(
        id="vanishing-gradients",
        title="Vanishing gradients: why do they happen?",
        deck="training/gradients",
        difficulty="medium",
        demo=DemoFields(
            "demos/vanishing.py",
            {"depth": 20, "activation": "sigmoid"},
            ["first-layer-gradient-vanishes"],
        ),
        tags=["gradients", "activations"],
        answer_time_s=90,
        source=["000_693752ffcdca7e64.txt"],
        sections={
            "Question": "Why do gradients vanish in a deep sigmoid MLP?",
            "Answer": (
                "Each layer multiplies the gradient by $\\sigma'(z) \\le 1/4$:\n\n"
                "$$\\frac{\\partial L}{\\partial h_1} = \\prod_i W_i^\\top \\sigma'(z_i)$$\n\n"
                "```python\ntorch.nn.Sigmoid()\n```"
            ),
            "Key points": (
                "- the derivative of the sigmoid is at most 1/4\n"
                "- ReLU with He init keeps the scale"
            ),
            "Pitfalls": "\n\nBlaming the learning rate.\n\n",
            "Follow-ups": "- How does [[exploding-gradients]] differ?",
        },
    )


def write_tree(content_dir: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = content_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


OTHER = card_to_markdown(
    CardFields(
        id="exploding-gradients",
        title="Exploding gradients",
        deck="training/gradients",
        difficulty="easy",
        sections={"Question": "What explodes?", "Answer": "Gradients."},
    )
)


def test_canonical_layout() -> None:
    assert card_to_markdown(sample()) == CANONICAL


def test_minimal_card_leaves_defaults_out() -> None:
    text = card_to_markdown(
        CardFields(
            id="a",
            title="A",
            deck="d",
            difficulty="easy",
            sections={"Question": "Q", "Answer": "A"},
        )
    )
    assert text == (
        "---\nid: a\ntitle: A\ndeck: d\ndifficulty: easy\ndemo: none\n---\n"
        "## Question\nQ\n\n## Answer\nA\n"
    )


def test_loader_accepts_it_and_reads_back_the_same_bytes(content_dir: Path) -> None:
    translation = TranslationFields(
        "vanishing-gradients",
        "zh",
        "梯度消失：为什么会发生？",
        {"Question": "为什么深层 sigmoid 网络的梯度会消失？", "Answer": "每层乘以 $\\sigma'(z)$。"},
    )
    write_tree(
        content_dir,
        {
            "cards/training/gradients/vanishing-gradients.md": CANONICAL,
            "cards/training/gradients/vanishing-gradients.zh.md": translation_to_markdown(
                translation
            ),
            "cards/training/gradients/exploding-gradients.md": OTHER,
            "demos/vanishing.py": DEMO,
        },
    )
    deck = load_deck(content_dir)
    assert deck.problems == []
    card = deck.cards["vanishing-gradients"]
    for lang, file in card.files.items():
        sections = {name: s.text for name, s in file.sections.items()}
        if lang == "en":
            again = card_to_markdown(card_from_meta(file.parsed.meta, sections))
        else:
            again = translation_to_markdown(translation_from_meta(file.parsed.meta, sections))
        assert again.encode() == file.parsed.raw


def test_several_sources_are_a_list() -> None:
    fields = sample()
    fields.source = ["a.txt", "b.txt"]
    assert "source: [a.txt, b.txt]\n" in card_to_markdown(fields)


def test_unknown_section_is_refused() -> None:
    fields = sample()
    fields.sections["Pitfals"] = "x"
    with pytest.raises(ValueError, match="Pitfals"):
        card_to_markdown(fields)


@settings(max_examples=60, deadline=None)
@given(
    title=st.text(
        st.characters(
            blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff\x85"
        ),
        min_size=1,
        max_size=40,
    ).filter(lambda t: t.strip() == t and t.strip()),
)
def test_any_title_survives_yaml(tmp_path_factory: pytest.TempPathFactory, title: str) -> None:
    root = tmp_path_factory.mktemp("content")
    fields = sample()
    fields.title = title
    fields.demo = None
    fields.sections["Follow-ups"] = "- none"
    write_tree(root, {"cards/training/gradients/vanishing-gradients.md": card_to_markdown(fields)})
    deck = load_deck(root)
    assert deck.problems == []
    assert deck.cards["vanishing-gradients"].meta.title == title


def test_slugify() -> None:
    assert slugify("Adam's bias correction?") == "adams-bias-correction"
    assert slugify("  Why ReLU > sigmoid (in 2024)!  ") == "why-relu-sigmoid-in-2024"
    assert slugify("Über-große Ünits") == "uber-groe-units"
    assert slugify("梯度") == "card"
    long = slugify("word " * 40)
    assert len(long) <= 64 and not long.endswith("-")


def test_unique_id_appends_a_number() -> None:
    assert unique_id("Momentum", {"momentum"}) == "momentum-2"
    assert unique_id("Momentum", {"momentum", "momentum-2"}) == "momentum-3"
    assert unique_id("Momentum", exists=lambda i: i == "momentum") == "momentum-2"
    assert len(unique_id("x" * 80, {"x" * 64})) <= 64


PROJECT_CONTENT = Path(__file__).resolve().parents[3] / "content"


def test_every_hand_written_card_is_in_the_canonical_layout() -> None:
    """What the editor writes is what contributors write: each card file in the
    repository comes back byte for byte."""
    deck = load_deck(PROJECT_CONTENT)
    if not deck.cards:
        pytest.skip("no cards in content/ yet")
    different = []
    for card in deck.cards.values():
        for lang, file in card.files.items():
            sections = {name: s.text for name, s in file.sections.items()}
            if lang == card.meta.lang:
                again = card_to_markdown(card_from_meta(file.parsed.meta, sections))
            else:
                again = translation_to_markdown(translation_from_meta(file.parsed.meta, sections))
            if again.encode() != file.parsed.raw:
                different.append(str(file.path))
    assert different == []
