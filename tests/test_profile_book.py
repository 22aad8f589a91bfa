import pytest

from csgbook.profile import by_profile, current_profile


@pytest.mark.parametrize(
    "raw,expected",
    [(None, "standard"), ("", "standard"), ("smoke", "smoke"), (" Standard ", "standard"), ("SMOKE", "smoke")],
)
def test_profile_from_environment(monkeypatch, raw, expected):
    if raw is None:
        monkeypatch.delenv("CSG_PROFILE", raising=False)
    else:
        monkeypatch.setenv("CSG_PROFILE", raw)
    assert current_profile() == expected
    assert by_profile(standard=30, smoke=1) == (1 if expected == "smoke" else 30)


def test_unknown_profile_lists_accepted_values(monkeypatch):
    monkeypatch.setenv("CSG_PROFILE", "paper")
    with pytest.raises(ValueError, match="accepted values: standard, smoke"):
        current_profile()
