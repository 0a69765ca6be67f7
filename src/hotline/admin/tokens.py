"""API tokens (`hl_…`) for integrations: one's own, shown once when made, revoked at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.admin import errors
from hotline.admin.auth import TOKEN_PREFIX
from hotline.admin.events import SessionRevoked
from hotline.admin.models import ApiToken
from hotline.admin.schemas import (
    TokenCreate,
)
from hotline.admin.users import self_id
from hotline.core import security
from hotline.core.clock import utcnow
from hotline.core.context import Context

# ---------------------------------------------------------------- API tokens


async def list_tokens(ctx: Context) -> list[ApiToken]:
    async with ctx.read() as session:
        return list(
            (
                await session.scalars(
                    select(ApiToken)
                    .where(ApiToken.user_id == self_id(ctx), ApiToken.revoked_at.is_(None))
                    .order_by(ApiToken.created_at.desc())
                )
            ).all()
        )


async def create_token(ctx: Context, data: TokenCreate) -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + security.new_secret()
    expires = utcnow() + timedelta(days=data.expires_in_days) if data.expires_in_days else None
    async with ctx.write() as tx:
        token = ApiToken(
            user_id=self_id(ctx),
            name=data.name,
            prefix=secret[:10],
            token_hash=security.digest(secret),
            expires_at=expires,
        )
        tx.session.add(token)
        await tx.session.flush()
    return token, secret


async def revoke_token(ctx: Context, token_id: int) -> None:
    async with ctx.write() as tx:
        token = await tx.session.get(ApiToken, token_id)
        if token is None or token.user_id != self_id(ctx) or token.revoked_at is not None:
            raise errors.TokenNotFound(
                f"No API token with id {token_id}", reason="no-api-token-id", params={"token_id": token_id}
            )
        token.revoked_at = utcnow()
        tx.publish(SessionRevoked(token_hash=token.token_hash))
