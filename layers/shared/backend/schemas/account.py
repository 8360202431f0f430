"""Account lifecycle on the wire: verification, password reset and change, email change, sessions."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from backend.schemas.common import CamelModel, StrictIn, Timestamp
from backend.schemas.users import EmailIn, NewPasswordIn, PasswordIn

TokenIn = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class TokenBody(StrictIn):
    token: TokenIn = Field(description="The token from the emailed link")


class ForgotPasswordIn(StrictIn):
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]


class ResetPasswordIn(StrictIn):
    token: TokenIn
    password: NewPasswordIn


class ChangePasswordIn(StrictIn):
    current_password: PasswordIn
    new_password: NewPasswordIn


class ChangeEmailIn(StrictIn):
    email: EmailIn
    password: PasswordIn = Field(description="The current password, to confirm it is you")


class Accepted(CamelModel):
    """A request taken; what follows arrives by email."""

    status: str = "accepted"
    message: str


class EmailStatusOut(CamelModel):
    email: str
    email_verified: bool


class VerificationRequestOut(CamelModel):
    sent: bool = Field(description="False when the address is verified already")


class SessionOut(CamelModel):
    id: str
    device: str = Field(description="Browser and system, from the User-Agent of the sign-in")
    created_at: Timestamp
    last_used_at: Timestamp = Field(description="The last refresh (or the sign-in)")
    expires_at: Timestamp
    current: bool = Field(description="The session of the token making this request")
