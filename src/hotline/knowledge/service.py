"""The knowledge base (D4): articles agents read beside a call — hotel facts, routes, prices,
policies, FAQ, standard phrases — kept by supervisors, found by a search that works for Chinese
(knowledge/search.py)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, func, select

from hotline.core.context import Context
from hotline.core.errors import InvalidInput, NotFound
from hotline.core.permissions import Permission
from hotline.knowledge import search
from hotline.knowledge.models import Article, ArticleTerm
from hotline.knowledge.schemas import ArticleIn, ArticleOut, Hit

MAX_QUERY_TERMS = 24


async def save(ctx: Context, data: ArticleIn, article_id: int | None = None) -> ArticleOut:
    ctx.require(Permission.KNOWLEDGE_WRITE)
    async with ctx.write() as tx:
        if article_id is None:
            article = Article(**data.model_dump(), updated_by=ctx.actor.user_id)
            tx.session.add(article)
        else:
            found = await tx.session.get(Article, article_id)
            if found is None:
                raise NotFound(
                    f"No article {article_id}",
                    field="article_id",
                    reason="no-article",
                    params={"article_id": article_id},
                )
            article = found
            for key, value in data.model_dump().items():
                setattr(article, key, value)
            article.updated_by = ctx.actor.user_id
            await tx.session.execute(delete(ArticleTerm).where(ArticleTerm.article_id == article.id))
        await tx.session.flush()
        tx.session.add_all(
            ArticleTerm(article_id=article.id, term=term, weight=weight)
            for term, weight in search.weights(data.title, data.body, data.tags).items()
        )
        await tx.session.flush()
        return ArticleOut.model_validate(article)


async def get(ctx: Context, article_id: int) -> ArticleOut:
    ctx.require(Permission.KNOWLEDGE_READ)
    async with ctx.read() as session:
        article = await session.get(Article, article_id)
        if article is None or (not article.published and not ctx.actor.can(Permission.KNOWLEDGE_WRITE)):
            raise NotFound(
                f"No article {article_id}",
                field="article_id",
                reason="no-article",
                params={"article_id": article_id},
            )
        return ArticleOut.model_validate(article)


async def find(ctx: Context, query: str, *, category: str | None = None, limit: int = 20) -> list[Hit]:
    """Articles for a query (see search.py), best first; without a query, the latest articles of
    the category."""
    ctx.require(Permission.KNOWLEDGE_READ)
    wanted = sorted(set(search.terms(query)))
    if query.strip() and not wanted:
        raise InvalidInput(
            "Search with words, numbers or Chinese characters",
            field="q",
            reason="search-words-numbers-chinese-characters",
        )
    if len(wanted) > MAX_QUERY_TERMS:
        raise InvalidInput(
            f"At most {MAX_QUERY_TERMS} search terms",
            field="q",
            reason="most-search-terms",
            params={"max_query_terms": MAX_QUERY_TERMS},
        )
    visible: list[ColumnElement[bool]] = []
    if not ctx.actor.can(Permission.KNOWLEDGE_WRITE):  # drafts are for the editors
        visible.append(Article.published.is_(True))
    if category:
        visible.append(Article.category == category)
    async with ctx.read() as session:
        if not wanted:
            latest = select(Article).where(*visible).order_by(Article.updated_at.desc()).limit(limit)
            return [_hit(a, "", 0) for a in (await session.scalars(latest)).all()]
        matched = func.count(ArticleTerm.term)
        ranked = (
            select(
                ArticleTerm.article_id, matched.label("matched"), func.sum(ArticleTerm.weight).label("weight")
            )
            .where(ArticleTerm.term.in_(wanted))
            .group_by(ArticleTerm.article_id)
            .having(matched >= search.needed(len(wanted)))
            .subquery()
        )
        best = (
            select(Article, ranked.c.matched).join(ranked, ranked.c.article_id == Article.id).where(*visible)
            .order_by(ranked.c.matched.desc(), ranked.c.weight.desc(), Article.id).limit(limit)
        )  # fmt: skip
        found = (await session.execute(best)).all()
    return [_hit(article, query, int(count)) for article, count in found]


def _hit(article: Article, query: str, matched: int) -> Hit:
    return Hit(id=article.id, title=article.title, category=article.category, tags=article.tags,
               snippet=search.snippet(article.body, query), matched=matched)  # fmt: skip


async def categories(ctx: Context) -> dict[str, int]:
    ctx.require(Permission.KNOWLEDGE_READ)
    async with ctx.read() as session:
        rows = await session.execute(
            select(Article.category, func.count(Article.id))
            .where(Article.published.is_(True))
            .group_by(Article.category)
        )
        return {category: int(n) for category, n in rows}
