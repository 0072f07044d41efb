"""Editor problems read as plain advice, not pydantic messages with regexes."""

from __future__ import annotations

from types import SimpleNamespace

from app.demos.metadata import parse_params
from app.web.plain_problems import plain


def problem(field: str, message: str) -> SimpleNamespace:
    return SimpleNamespace(field=field, message=message, line=3, where="content/cards/x.md:3")


def test_pydantic_messages_become_advice() -> None:
    assert plain(problem("title", 'invalid "title": String should have at least 1 character')) == (
        "Title: Is required"
    )
    deck = plain(problem("deck", "invalid \"deck\": String should match pattern '^[a-z0-9]+$'"))
    assert deck.startswith("Deck: Use lowercase letters") and "^" not in deck
    assert plain(problem("Answer", 'missing section "## Answer"')) == (
        "Answer: The Answer section is empty"
    )
    assert plain(problem("deck", "something new")) == "Deck: Something new"


def test_params_are_read_without_importing() -> None:
    source = (
        "import torch\nfrom typing import Literal\nclass Params(BaseModel):\n"
        "    depth: int = Field(10, ge=1, le=50, description='Layers')\n"
        "    act: Literal['relu', 'tanh'] = Field('relu', description='Activation')\n"
    )
    depth, act = parse_params(source)
    assert (depth.name, depth.default, depth.low, depth.high) == ("depth", 10, 1, 50)
    assert act.choices == ("relu", "tanh") and act.description == "Activation"
