"""An exercise module (``content/exercises/<name>.py``), read with ``ast``.

Its metadata are literal top-level assignments, so the web process reads them without
executing the file; only ``cases()`` (the test inputs, which need torch) is code, and it
runs in the judge's worker process. See content/README.md, "Exercises".
"""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from app.content.problems import Problem

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
LANGS = ("en", "zh")
MAX_FILE_BYTES = 256 * 1024

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Dotted = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)+$")]


class Translated(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    en: Text
    zh: Text


class TranslatedList(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    en: list[Text] = Field(min_length=1)
    zh: list[Text] = Field(min_length=1)


class ExerciseMeta(BaseModel):
    """The literal part of an exercise module; unknown names and wrong types are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    FUNCTION: Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$")]
    TITLE: Translated
    TASK: Translated
    STARTER: Code
    REFERENCE: Code
    WRONG: list[Code] = Field(min_length=1)
    HINTS: TranslatedList
    EXPLANATION: Translated
    FORBIDDEN: list[Dotted] = Field(default_factory=list)
    ATOL: Annotated[float, Field(gt=0, le=1)] = 1e-5
    RTOL: Annotated[float, Field(ge=0, le=1)] = 1e-4
    GRAD_ARGS: list[Annotated[int, Field(ge=0, le=16)]] = Field(default_factory=list)
    TIME_BUDGET_S: Annotated[int, Field(gt=0, le=3600)] = 900


@dataclass(frozen=True)
class Exercise:
    """One exercise: its name (the file stem), path, metadata and file hash."""

    name: str
    path: Path
    meta: ExerciseMeta
    sha256: str

    def title(self, lang: str) -> str:
        return getattr(self.meta.TITLE, lang if lang in LANGS else "en")


class ExerciseFormatError(ValueError):
    """The module breaks the format; ``problems`` name each line."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def load_exercise(path: Path) -> Exercise:
    """Reads and validates one exercise module without executing it. Raises
    ExerciseFormatError naming the file, line and field."""
    name = path.stem
    problems: list[Problem] = []
    if not NAME_PATTERN.match(name):
        problems.append(Problem(path, 1, f'exercise name "{name}" must be snake_case'))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExerciseFormatError([Problem(path, 1, f"cannot read: {exc.strerror}")]) from exc
    if len(raw) > MAX_FILE_BYTES:
        raise ExerciseFormatError([Problem(path, 1, "file larger than 256 KiB")])
    try:
        tree = ast.parse(raw.decode("utf-8"), filename=str(path))
    except (UnicodeDecodeError, SyntaxError) as exc:
        line = getattr(exc, "lineno", None) or 1
        raise ExerciseFormatError([Problem(path, line, f"not valid Python: {exc}")]) from exc
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    has_cases = False
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "cases":
            has_cases = True
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id.isupper():
                try:
                    values[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    problems.append(Problem(path, node.lineno, f"{target.id} must be a literal"))
                lines[target.id] = node.lineno
    if not has_cases:
        problems.append(Problem(path, 1, "missing `def cases():` returning the test inputs"))
    try:
        meta = ExerciseMeta.model_validate(values)
    except ValidationError as exc:
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            where = ".".join(str(p) for p in error["loc"])
            problems.append(Problem(path, lines.get(field, 1), f"{where}: {error['msg']}"))
        raise ExerciseFormatError(problems) from exc
    for field in ("STARTER", "REFERENCE"):
        code = getattr(meta, field)
        if f"def {meta.FUNCTION}(" not in code:
            problems.append(
                Problem(path, lines[field], f"{field} must define `def {meta.FUNCTION}(`")
            )
    if problems:
        raise ExerciseFormatError(problems)
    return Exercise(name, path, meta, hashlib.sha256(raw).hexdigest())


def exercise_files(content_dir: Path) -> list[Path]:
    directory = content_dir / "exercises"
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.glob("*.py") if not p.name.startswith("_"))


def load_exercises(content_dir: Path) -> tuple[dict[str, Exercise], list[Problem]]:
    """Every exercise under ``content_dir/exercises``, by name, and every problem found."""
    found: dict[str, Exercise] = {}
    problems: list[Problem] = []
    for path in exercise_files(content_dir):
        try:
            exercise = load_exercise(path)
        except ExerciseFormatError as exc:
            problems.extend(exc.problems)
            continue
        found[exercise.name] = exercise
    return found, problems
