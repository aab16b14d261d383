"""The ``pcb-app`` launcher: usage statistics off and no tracebacks, wherever the app is started."""

from __future__ import annotations

import socket
import subprocess
import sys
import tomllib
from pathlib import Path

from model.launch import APP, OPTIONS, option_flags, streamlit_argv

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = '[browser]\ngatherUsageStats = true\n[client]\nshowErrorDetails = "full"\n'


def test_the_project_config_file_says_the_same_as_the_launcher():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    for name, value in OPTIONS.items():
        section, option = name.split(".")
        assert str(config[section][option]).lower() == value, name


def test_the_launcher_runs_the_project_app_and_passes_arguments_on():
    argv = streamlit_argv(["--", "--priors", "tuned"])
    assert argv[:3] == ["streamlit", "run", str(APP)] and APP == ROOT / "app.py"
    assert argv[-3:] == ["--", "--priors", "tuned"]


def _settings(folder: Path, flags: list[str]) -> list[str]:
    show = [sys.executable, "-m", "streamlit", "config", "show", *flags]
    env = {"HOME": str(folder), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "true"}
    shown = subprocess.run(show, capture_output=True, text=True, cwd=folder, timeout=120, env=env)
    assert shown.returncode == 0, shown.stderr
    return [line.strip() for line in shown.stdout.splitlines() if not line.startswith("#")]


def test_the_launcher_options_win_over_another_folders_config_and_the_environment(tmp_path):
    """Started from a folder whose config, and an environment that, turn statistics on."""
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "config.toml").write_text(HOSTILE)
    assert "gatherUsageStats = true" in _settings(tmp_path, [])  # what plain streamlit would use
    settings = _settings(tmp_path, option_flags())
    assert "gatherUsageStats = false" in settings and 'showErrorDetails = "none"' in settings


def test_the_launcher_starts_the_app_from_any_folder_without_usage_statistics(tmp_path):
    """Streamlit prints "Collecting usage statistics" at start-up when they are on by default."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "model.launch", f"--server.port={port}", "--server.address=127.0.0.1"]
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if "URL" in line or len(lines) > 40:
                break
    finally:
        process.terminate()
        process.wait(timeout=30)
    printed = "".join(lines)
    assert "URL" in printed, printed
    assert "usage statistics" not in printed.lower()
