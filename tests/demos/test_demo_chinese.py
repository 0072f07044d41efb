"""Demos in both languages: every demo declares Chinese text (TEXT_ZH), and all of it:
title, description, every claim and its "shown when" in both languages, a Chinese
summary of each run, and Chinese for every fixed string its result and its parameters
show (chart titles and axes, table titles and columns, parameter descriptions)."""

from __future__ import annotations

import ast

import pytest

from app.demos.texts import read_texts
from tests.demos.helpers import DEMOS, demo_names, run_demo


def bilingual_demos() -> list[str]:
    return [name for name in demo_names() if "TEXT_ZH" in (DEMOS / f"{name}.py").read_text()]


def literal_strings(name: str) -> set[str]:
    """Every string constant of the demo's source (a string built at run time is not one)."""
    tree = ast.parse((DEMOS / f"{name}.py").read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }


def field_descriptions(name: str) -> list[str]:
    tree = ast.parse((DEMOS / f"{name}.py").read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Field":
            for keyword in node.keywords:
                if keyword.arg == "description":
                    found.append(ast.literal_eval(keyword.value))
    return found


def test_every_demo_is_bilingual() -> None:
    assert bilingual_demos() == demo_names()


@pytest.mark.parametrize("name", bilingual_demos())
def test_a_bilingual_demo_says_everything_in_chinese(name: str) -> None:
    texts = read_texts(DEMOS / f"{name}.py")
    result = run_demo(name)
    assert result.summary_zh and result.summary_zh != result.summary
    static = literal_strings(name)
    shown = [s for chart in result.charts for s in (chart.title, chart.x_label, chart.y_label)]
    shown += [s for table in result.tables for s in (table.title, *table.columns)]
    shown += field_descriptions(name)
    untranslated = sorted({s for s in shown if s and s in static and s not in texts.text_zh})
    assert untranslated == [], f"{name}: TEXT_ZH lacks {untranslated}"


@pytest.mark.parametrize("name", bilingual_demos())
def test_every_claim_says_where_its_effect_shows_in_both_languages(name: str) -> None:
    assert read_texts(DEMOS / f"{name}.py").missing_zh() == []
