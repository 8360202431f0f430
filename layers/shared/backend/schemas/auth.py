"""Sign-up, sign-in and refresh on the wire."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from backend.schemas.common import CamelModel, StrictIn
from backend.schemas.users import EmailIn, NewPasswordIn, PasswordIn, PersonName, UserOut


class SignUpIn(StrictIn):
    email: EmailIn
    password: NewPasswordIn
    name: PersonName


class SignInIn(StrictIn):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: PasswordIn


class RefreshIn(StrictIn):
    refresh_token: Annotated[str, StringConstraints(max_length=256)] | None = Field(
        None, description="Omit in cookie mode: the refresh-token cookie is used instead"
    )


class AuthOut(CamelModel):
    user: UserOut
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the scheme name
    expires_in: int = Field(description="Lifetime of the access token, in seconds")
    refresh_token: str
