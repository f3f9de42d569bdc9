from pathlib import Path

import pytest

from qa.config import load_settings
from qa.errors import UsageError


def test_defaults_then_env_then_flags():
    s = load_settings(environ={})
    assert s.k == 3 and s.index == Path(".qa_index") and s.grounding is True
    s = load_settings(environ={"QA_K": "5", "QA_GROUNDING": "off", "QA_INDEX": "/tmp/x"})
    assert s.k == 5 and s.grounding is False and s.index == Path("/tmp/x")
    s = load_settings({"k": 2}, environ={"QA_K": "5"})
    assert s.k == 2


def test_bad_values_are_usage_errors():
    with pytest.raises(UsageError, match="QA_K"):
        load_settings(environ={"QA_K": "lots"})
    with pytest.raises(UsageError, match="unknown setting"):
        load_settings({"nope": 1}, environ={})
