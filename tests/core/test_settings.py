import pytest

from core.settings import Settings, SettingsError


def test_production_refuses_to_start_without_a_secret(tmp_path):
    with pytest.raises(SettingsError, match="WERKBANK_SECRET_KEY"):
        Settings.from_env({"WERKBANK_ENV": "production", "WERKBANK_DATA_DIR": str(tmp_path)})


def test_development_generates_a_secret_once_and_keeps_it(tmp_path, caplog):
    env = {"WERKBANK_DATA_DIR": str(tmp_path)}
    first = Settings.from_env(env)
    second = Settings.from_env(env)
    assert len(first.secret_key) >= 32
    assert first.secret_key == second.secret_key
    assert (tmp_path / "secret_key").read_text() == first.secret_key
    assert "WERKBANK_SECRET_KEY is not set" in caplog.text


def test_settings_are_read_from_the_environment(tmp_path):
    settings = Settings.from_env({
        "WERKBANK_ENV": "production",
        "WERKBANK_SECRET_KEY": "x" * 40,
        "WERKBANK_DATABASE_URL": "postgresql://werkbank:pw@db:5432/werkbank",
        "WERKBANK_BASE_URL": "https://werkbank.example/",
        "WERKBANK_SMTP_URL": "smtp://mail:25",
        "WERKBANK_GEOCODER": "nominatim",
    })
    assert settings.is_production
    assert settings.database_engine == "postgresql"
    assert settings.base_url == "https://werkbank.example"
    assert settings.secure_cookies
    assert settings.geocoder == "nominatim"


@pytest.mark.parametrize("name, value, message", [
    ("WERKBANK_DATABASE_URL", "mysql://x/y", "sqlite:///"),
    ("WERKBANK_GEOCODER", "google", "offline or nominatim"),
    ("WERKBANK_ENV", "staging", "WERKBANK_ENV"),
    ("WERKBANK_SECRET_KEY", "short", "at least 32"),
])
def test_a_wrong_setting_is_named(tmp_path, name, value, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env({"WERKBANK_DATA_DIR": str(tmp_path), name: value})


def test_fewer_password_rounds_are_for_tests_only(tmp_path):
    env = {"WERKBANK_DATA_DIR": str(tmp_path), "WERKBANK_TEST_PASSWORD_ROUNDS": "1000"}
    assert Settings.from_env(env).test_password_rounds == 1000
    assert Settings.from_env({"WERKBANK_DATA_DIR": str(tmp_path)}).test_password_rounds == 0
    with pytest.raises(SettingsError, match="WERKBANK_TEST_PASSWORD_ROUNDS"):
        Settings.from_env({**env, "WERKBANK_ENV": "production", "WERKBANK_SECRET_KEY": "x" * 40})


def test_production_settings_never_lower_the_password_rounds():
    from accounts.services import apply_test_password_rounds
    from accounts.tables import User

    before = User._pbkdf2_iteration_count
    apply_test_password_rounds(Settings(environment="production", secret_key="x" * 40, test_password_rounds=10))
    assert User._pbkdf2_iteration_count == before
