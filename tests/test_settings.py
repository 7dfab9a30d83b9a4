from pathlib import Path

import pytest

from model.errors import ConfigurationError
from model.settings import Settings


def test_defaults_are_loopback_and_bounded():
    s = Settings()
    assert s.host == "127.0.0.1"
    assert s.port == 8000
    assert s.max_batch > 0 and s.max_chars > 0


def test_from_env_parses_types_and_ignores_other_variables():
    env = {
        "BERAKHLAK_PORT": "9001",
        "BERAKHLAK_PRELOAD": "yes",
        "BERAKHLAK_API_KEYS": "a, b,,c",
        "BERAKHLAK_CACHE_DIR": "/tmp/x",
        "OTHER_PORT": "1",
    }
    s = Settings.from_env(env)
    assert s.port == 9001
    assert s.preload is True
    assert s.api_keys == ("a", "b", "c")
    assert s.cache_dir == Path("/tmp/x")


def test_overrides_win_over_environment():
    assert Settings.from_env({"BERAKHLAK_PORT": "9001"}, port=9002).port == 9002


@pytest.mark.parametrize(("name", "raw"), [("PORT", "eighty"), ("PRELOAD", "maybe"), ("MAX_BATCH", "0")])
def test_bad_environment_values_raise_configuration_error(name, raw):
    with pytest.raises(ConfigurationError):
        Settings.from_env({f"BERAKHLAK_{name}": raw})


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().port = 1
