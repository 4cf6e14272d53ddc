"""Settings refuse what is unsafe in production, and malformed limits anywhere."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from archive.settings import Settings

KEY = "k" * 40


def production(tmp_path, **values) -> Settings:
    return Settings(environment="production", data_dir=tmp_path / "var",
                    auth={"secret_key": KEY}, **values)


def test_production_takes_the_audit_key_from_a_secret_outside_the_data_folder(tmp_path) -> None:
    secret = tmp_path / "secrets" / "audit_key"
    secret.parent.mkdir()
    secret.write_text(KEY + "\n")
    settings = production(tmp_path, audit={"hmac_key_file": str(secret)})
    assert settings.audit.key == KEY.encode()
    assert production(tmp_path, audit={"hmac_key": KEY}).audit.key == KEY.encode()


def test_production_refuses_an_audit_key_in_the_data_folder(tmp_path) -> None:
    inside = tmp_path / "var" / "keys" / "audit.key"
    inside.parent.mkdir(parents=True)
    inside.write_text(KEY)
    with pytest.raises(ValidationError, match="must not be stored in the data folder"):
        production(tmp_path, audit={"hmac_key_file": str(inside)})
    (tmp_path / "var" / "audit.key").write_text(KEY)  # a development key left behind
    with pytest.raises(ValidationError, match="must not be stored in the data folder"):
        production(tmp_path, audit={"hmac_key": KEY})
    with pytest.raises(ValidationError, match="HMAC_KEY must be set"):
        production(tmp_path)


def test_a_missing_key_file_and_bad_rate_limits_are_refused(tmp_path) -> None:
    with pytest.raises(ValidationError, match="HMAC_KEY_FILE"):
        Settings(data_dir=tmp_path, audit={"hmac_key_file": str(tmp_path / "nowhere")})
    with pytest.raises(ValidationError, match="SEARCH_RATE_LIMIT"):
        Settings(data_dir=tmp_path, search_rate_limit="lots/fortnight")
    assert Settings(data_dir=tmp_path, search_rate_limit="").search_rate_limit == ""
