"""Shared fixtures: the tiny hand-checkable knowledge base, the shipped model, and a network guard."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from model import build_model, load_knowledge

TINY = Path(__file__).parent / "data" / "tiny"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Fail any test that opens a network connection: the model must work offline."""

    def refuse(*args, **kwargs):
        raise RuntimeError("network access attempted during a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="session")
def tiny_knowledge():
    return load_knowledge(TINY)


@pytest.fixture(scope="session")
def tiny_model(tiny_knowledge):
    return build_model(tiny_knowledge)


@pytest.fixture(scope="session")
def shipped_knowledge():
    return load_knowledge()


@pytest.fixture(scope="session")
def shipped_model(shipped_knowledge):
    return build_model(shipped_knowledge)


@pytest.fixture
def tiny_copy(tmp_path):
    """A writable copy of the tiny knowledge base, for tests that break one file."""
    folder = tmp_path / "priors"
    shutil.copytree(TINY, folder)
    return folder
