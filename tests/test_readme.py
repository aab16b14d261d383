"""The README stays true: its commands run as written after the Quick start, its figures are the code's.

Every ``.venv/bin/python -m model`` command in a bash block runs on the example files (in a scratch
folder, so files it writes land there); every such command quoted in the text parses; every count,
share and the example table that the code can produce are recomputed and compared.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest

from model.calibration import calibrate, load_targets
from model.cli import _parser, main
from model.evaluation import evaluate, load_vignettes, summarise
from model.inference import diagnose
from model.present import diagnosis_text, parameters_summary

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
PYTHON = ".venv/bin/python"
CLI = f"{PYTHON} -m model"


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, flags=re.DOTALL)


def _block_commands() -> list[list[str]]:
    lines = [line for block in _bash_blocks() for line in block.splitlines() if line.startswith(CLI)]
    return [shlex.split(line, comments=True)[3:] for line in lines]


def _quoted_commands() -> list[list[str]]:
    spans = re.findall(rf"`({re.escape(CLI)}[^`]*)`", README)
    return [shlex.split(span)[3:] for span in spans]


def _percent(share: float) -> str:
    return f"{share:.1%}" if share else "0%"


def test_the_quick_start_has_two_commands_that_make_the_environment_the_readme_uses():
    quick_start = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", quick_start, flags=re.DOTALL)
    assert len(commands) == 2
    for block in commands:
        assert block.splitlines()[-1].startswith("python3.11 -m venv .venv && .venv/bin/pip install -e ")


@pytest.mark.parametrize("argv", _block_commands(), ids=lambda argv: " ".join(argv)[:60])
def test_every_command_in_a_block_runs_as_written(argv, tmp_path, monkeypatch, capsys):
    (tmp_path / "priors").symlink_to(ROOT / "priors")
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().out or list(tmp_path.iterdir()) != [tmp_path / "priors"]


def test_the_blocks_show_every_command():
    shown = {argv[0] for argv in _block_commands()}
    commands = _parser()._subparsers._group_actions[0].choices
    assert shown == set(commands) - {"fit"}  # fit rewrites the priors folder; it is described in the text


@pytest.mark.parametrize("argv", _quoted_commands(), ids=lambda argv: " ".join(argv)[:60])
def test_every_command_quoted_in_the_text_is_a_valid_command(argv):
    _parser().parse_args(argv)


def test_every_script_the_readme_runs_exists():
    for script in re.findall(rf"{re.escape(PYTHON)} (\S+\.py)", README):
        assert (ROOT / script).is_file(), script


def test_the_counts_of_numbers_causes_and_findings(shipped_knowledge):
    frame = shipped_knowledge.parameter_frame()
    vocabulary = shipped_knowledge.vocabulary
    evidence = frame["evidence"].value_counts()
    assert f"lists every one ({len(frame)} rows today)" in README
    share = evidence["expert_estimate"] / len(frame)
    assert f"{evidence['expert_estimate']} expert estimates ({_percent(share)})" in README
    assert f"{evidence['calibrated']} calibrated, {evidence['derived']} derived" in README
    assumed = re.search(r"rest on an assumed factor: (\d+)", parameters_summary(frame)).group(1)
    assert f"{assumed} derived or calibrated numbers list an assumed factor" in README
    assert f"{len(vocabulary.causes)} binary causes" in README
    assert f"{len(vocabulary.findings)} history items, examination signs and test results" in README


def test_the_example_table_is_what_the_text_format_prints(shipped_model):
    example = README.split("`--format text` prints\n(abridged):", 1)[1]
    table = re.search(r"```text\n(.*?)```", example, flags=re.DOTALL).group(1)
    case = (ROOT / "priors" / "cases" / "example_young_on_the_pill.json").read_text()
    printed = diagnosis_text(diagnose(shipped_model, __import__("json").loads(case)), shipped_model.knowledge)
    shown_lines = [line for line in table.splitlines() if line.strip() and line.strip() != "..."]
    assert len(shown_lines) > 10
    for line in shown_lines:
        assert line in printed.splitlines(), line


def test_the_validation_figures(shipped_model):
    vignettes = load_vignettes(shipped_model)
    presenting = [v for v in vignettes if v.presented_with_pcb]
    every, pcb = summarise(evaluate(shipped_model, vignettes)), summarise(evaluate(shipped_model, presenting))
    assert f"{len(vignettes)} cases transcribed" in README
    assert f"{len(vignettes) - len(presenting)} did not present with" in README
    assert f"all {len(vignettes)}, after | {len(presenting)} PCB presentations, before" in README
    for measure in ("top1", "top3", "under_triage", "over_triage"):
        label = {"top1": "top-1 accuracy", "top3": "top-3 accuracy"}.get(measure, measure.replace("_", "-"))
        row = next(line for line in README.splitlines() if line.startswith(f"| {label} |")).split(" | ")
        after_all, after_pcb = row[2], row[4]
        assert (after_all, after_pcb) == (_percent(every[measure]), _percent(pcb[measure])), label


def test_the_calibration_counts(shipped_model):
    checks = calibrate(shipped_model, load_targets(shipped_model))
    cohorts = {c.target.source for c in checks}
    met, gaps = sum(c.ok for c in checks), sum(bool(c.target.unmet) for c in checks)
    assert f"calibrated to {len(cohorts)} published cohorts" in README
    assert f"beside {len(checks)} published figures from {len(cohorts)}\ncohorts" in README
    assert (
        f"Today {met} are met and the other {gaps} are known gaps with their reasons ({len(checks)} in all)"
        in README
    )


def test_the_commands_the_readme_runs_from_the_environment_are_installed_by_the_project():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    tools = {"python", "pip", "activate", "jupyter", "mutmut"}  # Python's, and from the extras
    used = set(re.findall(r"\.venv/bin/([\w-]+)", README))
    assert used - tools == set(scripts) == {"pcb-app"}
    extras = " ".join(
        " ".join(group)
        for group in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
            "optional-dependencies"
        ].values()
    )
    assert "mutmut" in extras and "jupyterlab" in extras
