"""Bodies of the auth routes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

SignupRole = Literal["viewer", "creator", "advertiser"]


def _default_roles() -> list[SignupRole]:
    return ["viewer"]


class _Request(BaseModel):
    model_config = ConfigDict(strict=True)


class SignupCreate(_Request):
    email: str = Field(max_length=320, json_schema_extra={"format": "email"})
    password: str = Field(min_length=8, max_length=1024)
    display_name: str = Field(min_length=1, max_length=200)
    roles: list[SignupRole] = Field(default_factory=_default_roles, min_length=1)


class LoginRequest(_Request):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class RefreshRequest(_Request):
    refresh_token: str = Field(min_length=1, max_length=200)


class LogoutRequest(_Request):
    refresh_token: str | None = Field(default=None, max_length=200)


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str
    roles: list[str]


class TokenPairPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="lifetime of the access token in seconds")
