"""Every notebook in notebooks/ runs top to bottom in a fresh kernel, offline, as CI runs it.

The notebooks are jupytext percent-format scripts; each is converted and executed with nbclient, with
notebooks/ as the working directory and a plotting backend that needs no display. The kernel gets the
same network guard as the tests (its own messages travel over ZeroMQ, which the guard does not touch).
Anything a notebook writes goes to a temporary folder (``PCB_NOTEBOOK_OUTPUT``), never into the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.py"))
CELL_TIMEOUT = 120
NETWORK_GUARD = """
import socket

def refuse(*args, **kwargs):
    raise RuntimeError("network access attempted in a notebook")

socket.socket.connect = refuse
"""


def test_there_is_a_notebook_for_each_task():
    assert len(NOTEBOOKS) >= 4


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_clean(path, tmp_path, monkeypatch):
    # the inline backend draws every figure without a display, so a plotting error fails the test
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.setenv("PCB_NOTEBOOK_OUTPUT", str(tmp_path))
    # the kernel imports `model` from this working tree, the code under test, installed or not
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    before = sorted(path.parent.rglob("*"))
    notebook = jupytext.read(path)
    notebook.cells.insert(0, nbformat.v4.new_code_cell(NETWORK_GUARD))
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} stopped with an error:\n{exc}", pytrace=False)
    assert sorted(path.parent.rglob("*")) == before, "a notebook wrote inside the repository"
