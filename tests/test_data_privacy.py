"""Pseudonyms: HMAC-SHA256 under a per-installation secret, never a public default."""

import hashlib
import hmac
import os
import stat
import subprocess
import sys

import pandas as pd
import pytest

from collections_lab.data import privacy
from collections_lab.data.portfolio import Portfolio

IDS = [f"C{i:05d}" for i in range(1, 2001)]


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    path = tmp_path / "cfg" / "secret"
    monkeypatch.setenv(privacy.SECRET_FILE_ENV, str(path))
    monkeypatch.delenv(privacy.SECRET_ENV, raising=False)
    return path


def test_tests_never_use_the_real_config_directory():
    assert os.environ[privacy.SECRET_FILE_ENV]
    assert privacy.secret_path() == __import__("pathlib").Path(
        os.environ[privacy.SECRET_FILE_ENV])


def test_the_key_is_created_once_private_and_reused(key_file):
    first = privacy.pseudonym("C00001")
    assert key_file.exists() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64  # 32 random bytes, hex
    # stable with the key: again, and in another process reading the same file
    assert privacy.pseudonym("C00001") == first
    code = "from collections_lab.data.privacy import pseudonym; print(pseudonym('C00001'))"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=os.environ.copy(), check=True).stdout.strip()
    assert other == first


def test_without_the_key_pseudonyms_cannot_be_reversed(key_file, tmp_path, monkeypatch):
    published = set(privacy.pseudonymise(pd.DataFrame({"customer_id": IDS}))["customer_id"])
    # An attacker hashing candidate ids with any public key (none, the old built-in
    # default, plain SHA-256) recovers nothing ...
    for guess_key in (b"", b"collections-lab-default-salt", b"collections_lab"):
        for digest in (hashlib.sha256, hashlib.blake2b):
            guesses = {"C-" + hmac.new(guess_key, i.encode(), digest).hexdigest()[:12]
                       for i in IDS}
            assert not guesses & published
    assert not {"C-" + hashlib.sha256(i.encode()).hexdigest()[:12] for i in IDS} & published
    # ... and another installation (another key) produces other pseudonyms.
    monkeypatch.setenv(privacy.SECRET_FILE_ENV, str(tmp_path / "other" / "secret"))
    elsewhere = set(privacy.pseudonymise(pd.DataFrame({"customer_id": IDS}))["customer_id"])
    assert not elsewhere & published
    # with the key, the mapping is reproduced exactly
    monkeypatch.setenv(privacy.SECRET_FILE_ENV, str(key_file))
    again = set(privacy.pseudonymise(pd.DataFrame({"customer_id": IDS}))["customer_id"])
    assert again == published


def test_a_key_in_the_environment_wins_over_the_file(key_file, monkeypatch):
    monkeypatch.setenv(privacy.SECRET_ENV, "team-secret")
    assert privacy.pseudonym("C1") == privacy.pseudonym("C1", salt="team-secret")
    assert not key_file.exists()  # no file needed when the key is given


def test_no_key_is_an_error_not_a_public_default(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    monkeypatch.setenv(privacy.SECRET_FILE_ENV, str(blocker / "secret"))
    monkeypatch.delenv(privacy.SECRET_ENV, raising=False)
    with pytest.raises(RuntimeError, match="no key for pseudonyms: cannot create or read "
                                           ".*set COLLECTIONS_LAB_SECRET"):
        privacy.pseudonym("C1")


def test_portfolio_ids_are_replaced_everywhere_with_one_key(key_file):
    customers = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["Ana", "Bo"]})
    invoices = pd.DataFrame({"invoice_id": ["I1", "I2"], "customer_id": ["C2", "C1"]})
    out = privacy.pseudonymise_portfolio(Portfolio(customers, invoices))
    assert set(out.invoices["customer_id"]) == set(out.customers["customer_id"])
    assert out.customers["customer_id"][0] == privacy.pseudonym("C1")
