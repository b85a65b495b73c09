"""Roles from the signed-in identity's claims and the configuration (lib.auth), tested directly."""

from __future__ import annotations

from typing import Any

import pytest

from lib import auth
from lib.errors import ConfigError
from tests.support import AUTH, ROLES


def test_roles_resolve_from_email_domain_and_group_claims() -> None:
    roles = auth.parse_roles({**ROLES, "group_claim": "groups"})
    signed = {"is_logged_in": True}
    assert auth.resolve_role({**signed, "email": "Ada@Hospital.example"}, roles) == "admin"
    assert auth.resolve_role({**signed, "email": "bob@hospital.example"}, roles) == "support"
    assert auth.resolve_role({**signed, "email": "bob@hospital.example", "groups": ["oncall"]}, roles) == "oncall"
    assert auth.resolve_role({**signed, "email": "eve@elsewhere.example"}, roles) is None
    assert auth.resolve_role({**signed, "email": "ada@hospital.example", "email_verified": False}, roles) is None
    assert auth.resolve_role({"email": "ada@hospital.example"}, roles) is None  # not signed in
    assert auth.resolve_role({"is_logged_in": False, "email": "ada@hospital.example"}, roles) is None
    assert auth.resolve_role({**signed, "email": "ada@hospital.example.evil"}, roles) is None


def test_roles_from_the_environment_win_and_bad_configuration_is_one_sentence(monkeypatch: Any) -> None:
    monkeypatch.setenv(auth.ROLES_ENV, "oncall=ada@hospital.example; support=@hospital.example")
    roles = auth.load_roles({"roles": {"admin": ["ada@hospital.example"]}})
    assert auth.resolve_role({"is_logged_in": True, "email": "ada@hospital.example"}, roles) == "oncall"
    for raw in ("admin", "root=ada@hospital.example", "admin=not-an-email"):
        monkeypatch.setenv(auth.ROLES_ENV, raw)
        with pytest.raises(ConfigError) as err:
            auth.load_roles({})
        assert "\n" not in str(err.value) and str(err.value).endswith(".")
    monkeypatch.delenv(auth.ROLES_ENV)
    assert auth.load_roles({}).empty
    assert auth.auth_configured({"auth": AUTH}) and not auth.auth_configured({}) and not auth.auth_configured(
        {"auth": {"client_id": "x"}})
