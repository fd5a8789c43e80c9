"""Staff accounts, lock-out and the audit log behave the same in SQLite and PostgreSQL."""

import pytest

from staff.accounts import AccountError, StaffStore


@pytest.fixture(params=["sqlite", "postgresql"])
def accounts(request, tmp_path):
    where = tmp_path / "staff.sqlite3" if request.param == "sqlite" else request.getfixturevalue("postgres_server")()
    with StaffStore(where) as opened:
        yield opened


def test_accounts_lock_out_and_audit(accounts):
    accounts.add("wang", "a long password")
    with pytest.raises(AccountError):
        accounts.add("wang", "another password")
    assert accounts.check("wang", "a long password")
    for _ in range(5):
        assert not accounts.check("wang", "wrong")
    assert accounts.locked_until("wang") is not None
    assert not accounts.check("wang", "a long password")  # locked, even with the right one
    accounts.record("wang", "publish", notices=[3])
    [entry] = accounts.audit()
    assert (entry.who, entry.action, entry.detail) == ("wang", "publish", {"notices": [3]})
    assert [name for name, _ in accounts.names()] == ["wang"]
    assert accounts.remove("wang") and not accounts.remove("wang")
