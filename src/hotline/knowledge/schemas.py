from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from hotline.core.schemas import NON_BLANK, Input, Output

Category = Literal["hotel", "route", "price", "policy", "faq", "phrase"]


class ArticleIn(Input):
    title: Annotated[
        str, StringConstraints(min_length=2, max_length=120, pattern=NON_BLANK, strip_whitespace=True)
    ]
    category: Category
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=20, strip_whitespace=True)]] = Field(
        default_factory=list, max_length=12
    )
    body: Annotated[str, StringConstraints(min_length=2, max_length=20000, pattern=NON_BLANK)]
    published: bool = True


class ArticleOut(Output):
    id: int
    title: str
    category: str
    tags: list[str]
    body: str
    published: bool
    updated_at: datetime


class Hit(Output):
    id: int
    title: str
    category: str
    tags: list[str]
    snippet: str
    matched: int = Field(description="Query terms the article holds")


CallerClass = Literal["known", "known_customer_new_number", "unknown"]


class Stage(Input):
    title: Annotated[
        str, StringConstraints(min_length=1, max_length=40, pattern=NON_BLANK, strip_whitespace=True)
    ]
    lines: list[Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=NON_BLANK)]] = Field(
        min_length=1, max_length=12
    )


class ScriptIn(Input):
    stages: list[Stage] = Field(min_length=1, max_length=20)


class ScriptOut(Output):
    caller_class: str
    stages: list[Stage]
    shipped: bool = Field(description="True while it is the script Hotline ships (never edited)")
