import pytest

from yibao import manage_cli


@pytest.mark.django_db
def test_yibao_migrate_runs_django_migrations(capsys):
    assert manage_cli.main(["migrate", "-v", "1"]) == 0
    assert "No migrations to apply" in capsys.readouterr().out


def test_yibao_manage_passes_through_to_django(capsys):
    assert manage_cli.main(["manage", "check"]) == 0
    assert "no issues" in capsys.readouterr().out
