"""The command line: ``python -m model diagnose | next-questions | sensitivity | parameters | ...``.

A stable contract that other tools and tests call. Results go to standard output; any bad input
(a file, a case, an option) gives one line on standard error and exit status 2, never a traceback.
Tools call it once per case, so each command imports what only it needs (pandas, SciPy's
optimiser, pgmpy) when it runs: ``diagnose CASE.json`` starts in well under a second.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

from model.case import Case
from model.errors import ArgumentError, ModelInputError
from model.export import EXPORT_FORMATS, export_network
from model.inference import DiagnosticModel, PosteriorCache, build_model, diagnose
from model.intake import NotUtf8, decode_utf8, parse_number, read_case_json, shown, whole_number
from model.present import (
    calibration_text,
    diagnosis_record,
    diagnosis_text,
    evaluation_text,
    parameters_summary,
    questions_record,
    questions_text,
    tornado_text,
)
from model.questions import TARGETS, next_questions
from model.uncertainty import DEFAULT_DRAWS, DEFAULT_LEVEL, MAX_DRAWS, posterior_intervals

if TYPE_CHECKING:
    import pandas as pd

EXIT_BAD_INPUT = 2
BATCH_LINES = 2000  # JSON lines answered per engine call: fast, and memory bounded for any file
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a tool stopped by SIGPIPE
TABLE_FORMATS = (".csv", ".parquet")


class UsageError(ModelInputError):
    """A command-line usage problem."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _read_bytes(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _decoded(data: bytes, where: str) -> str:
    try:
        return decode_utf8(data)
    except NotUtf8 as exc:
        raise UsageError(f"{where}, line {exc.line}: {exc}") from None


def _read_case(path: str) -> Any:
    return read_case_json(_decoded(_read_bytes(path), path), path)


def _overrides(pairs: Sequence[str]) -> dict[str, float]:
    parsed: dict[str, float] = {}
    for pair in pairs:
        pid, sep, value = pair.rpartition("=")  # ids contain "=", values never do
        if not sep or not pid or not value:
            raise UsageError(f"--set {shown(repr(pair))}: use PARAMETER_ID=VALUE")
        if pid in parsed:
            raise UsageError(f"--set {shown(pid)}: given twice; set each parameter once")
        try:
            parsed[pid] = parse_number(value)
        except ValueError as exc:
            raise UsageError(f"--set {shown(pid)}: {exc}") from None
    return parsed


def _whole_number(least: int, most: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            return whole_number(int(text) if text.isdigit() else text, "", least, most)
        except ArgumentError as exc:
            raise argparse.ArgumentTypeError(exc.problem) from None

    return parse


_positive_int, _seed, _draws = _whole_number(1), _whole_number(0), _whole_number(1, MAX_DRAWS)


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability between 0 and 1, e.g. 0.9")
    return value


def _model(args: argparse.Namespace) -> DiagnosticModel:
    return build_model(overrides=_overrides(args.set), priors_path=args.priors)


def _diagnose(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    cohort = args.batch and Path(args.case).suffix.lower() in TABLE_FORMATS
    if (args.output or args.id) and not cohort:
        raise UsageError("--output and --id apply to a CSV or Parquet cohort given with --batch")
    if args.output and Path(args.output).suffix.lower() not in TABLE_FORMATS:
        raise UsageError(f"--output {args.output}: name a .csv or .parquet file")
    if args.intervals and args.batch:
        raise UsageError("--intervals applies to one case, not to --batch")
    for option in ("draws", "level", "seed"):
        if getattr(args, option) is not None and not args.intervals:
            raise UsageError(f"--{option} applies only with --intervals")
    if args.batch and args.format == "text":
        raise UsageError("--format text applies to one case; --batch writes JSON lines or a table")
    model = _model(args)
    if cohort:
        return _score_table(model, args, out, err)
    if not args.batch:
        result = diagnose(model, _read_case(args.case))
        intervals = (
            posterior_intervals(
                model,
                result.case,
                args.draws or DEFAULT_DRAWS,
                args.level or DEFAULT_LEVEL,
                args.seed or 0,
            )
            if args.intervals
            else None
        )
        text = (
            diagnosis_text(result, model.knowledge, intervals)
            if args.format == "text"
            else json.dumps(diagnosis_record(result, intervals))
        )
        print(text, file=out)
        return 0
    lines = [(n, raw) for n, raw in enumerate(_read_bytes(args.case).splitlines(), start=1) if raw.strip()]
    status = 0
    for start in range(0, len(lines), BATCH_LINES):
        status = max(status, _diagnose_lines(model, args.case, lines[start : start + BATCH_LINES], out, err))
    return status


def _diagnose_lines(
    model: DiagnosticModel, path: str, lines: Sequence[tuple[int, bytes]], out: TextIO, err: TextIO
) -> int:
    """Diagnose numbered JSON lines, every triage included, from one engine call; print a result per line.

    A bad line is named by its number and answered with an error record; every good line is answered.
    """
    parsed: list[Case | str] = []
    for number, raw in lines:
        where = f"{path}, line {number}"
        try:
            line = decode_utf8(raw.removeprefix(b"\xef\xbb\xbf") if number > 1 else raw)
            parsed.append(model.parse(read_case_json(line, where)))
        except NotUtf8 as exc:
            parsed.append(f"{where}: {exc}")
        except ModelInputError as exc:
            parsed.append(str(exc) if str(exc).startswith(where) else f"{where}: {exc}")
    cache = PosteriorCache.for_cases(model, [case for case in parsed if isinstance(case, Case)])
    status = 0
    for (number, _), case in zip(lines, parsed, strict=True):
        where = f"{path}, line {number}"
        message = case if isinstance(case, str) else None
        if message is None:
            try:
                record = diagnosis_record(diagnose(model, case, cache=cache))
            except ModelInputError as exc:
                message = str(exc) if str(exc).startswith(where) else f"{where}: {exc}"
        if message is not None:
            print(f"error: {message}", file=err)
            record, status = {"error": message}, EXIT_BAD_INPUT
        print(json.dumps({"line": number, **record}), file=out)
    return status


def _read_table(path: str) -> pd.DataFrame:
    import pandas as pd

    try:
        if Path(path).suffix.lower() == ".parquet":
            return pd.read_parquet(path)
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")  # the file's line, after the header
        return frame
    except FileNotFoundError:
        raise UsageError(f"{path}: cannot read (No such file or directory)") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise UsageError(f"{path}: cannot read as a table ({str(exc).splitlines()[0]})") from None


def _score_table(model: DiagnosticModel, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Score a CSV or Parquet cohort with the vectorised engine; write CSV or Parquet."""
    from model.batch import CHUNK_ROWS, output_columns, score

    frame = _read_table(args.case)
    if args.id:
        if args.id not in frame:
            raise UsageError(f"--id {shown(args.id)}: no such column in {args.case}")
        if args.id in output_columns(model):
            raise UsageError(f"--id {args.id}: is also the name of an output column; rename the column")
        frame = frame.set_index(args.id)
    scored = score(model, frame, progress=len(frame) > CHUNK_ROWS)
    try:
        if args.output and Path(args.output).suffix.lower() == ".parquet":
            scored.to_parquet(args.output)
        elif args.output:
            scored.to_csv(args.output)
        else:
            scored.to_csv(out)
    except OSError as exc:
        raise UsageError(f"{args.output}: cannot write ({exc.strerror or exc})") from None
    if args.output:
        print(f"scored {len(scored)} cases into {args.output}", file=err)
    return 0


def _next_questions(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    model = _model(args)
    values = next_questions(model, _read_case(args.case), args.target)
    if args.format == "json":
        print(
            json.dumps({"target": args.target, "questions": questions_record(values[: args.top])}), file=out
        )
    else:
        print(questions_text(values, model.knowledge, args.top), file=out)
    return 0


def _sensitivity(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from model.sensitivity import tornado

    model = _model(args)
    if args.cause not in model.knowledge.vocabulary.causes:
        raise UsageError(f"--cause {args.cause}: not a cause id (see priors/vocabulary.yaml)")
    table = tornado(model, _read_case(args.case), args.cause)
    if args.format == "json":
        head = table.head(args.top).reset_index()
        rows = head.astype(object).where(head.notna(), None).to_dict(orient="records")  # NaN is not JSON
        print(
            json.dumps({"cause": args.cause, "posterior": table.attrs["posterior"], "parameters": rows}),
            file=out,
        )
    else:
        print(tornado_text(table, model.knowledge, args.cause, args.top), file=out)
    return 0


def _parameters(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    frame = _model(args).knowledge.parameter_frame()
    if args.summary:
        print(parameters_summary(frame), file=out)
    elif args.format == "json":
        out.write(frame.to_json(orient="records", indent=1) + "\n")
    else:
        frame.to_csv(out, index=False)
    return 0


def _export(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        written = export_network(_model(args).network, args.path, args.format)
    except OSError as exc:
        raise UsageError(f"{args.path}: cannot write ({exc.strerror or exc})") from None
    print(f"wrote {written}", file=err)
    return 0


def _evaluate(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from model.evaluation import evaluate, load_vignettes, summarise

    model = _model(args)
    vignettes = load_vignettes(model, args.cases)
    if args.pcb_only:
        vignettes = [v for v in vignettes if v.presented_with_pcb]
    outcomes = evaluate(model, vignettes)
    if args.format == "json":
        rows = [
            {"id": o.vignette.id, "diagnosis": o.vignette.diagnosis, "top3": list(o.top3),
             "top1_hit": o.top1_hit, "top3_hit": o.top3_hit,
             "triage_reference": o.vignette.triage, "triage_model": o.triage}
            for o in outcomes
        ]  # fmt: skip
        print(json.dumps({"summary": summarise(outcomes), "cases": rows}, indent=1), file=out)
    else:
        print(evaluation_text(outcomes, model.knowledge), file=out)
    return 0


def _calibration(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from model.calibration import calibrate, load_targets

    model = _model(args)
    checks = calibrate(model, load_targets(model, args.targets))
    if args.format == "json":
        rows = [
            {"id": c.target.id, "label": c.target.label, "model": c.model, "published": c.target.published,
             "interval": list(c.target.interval) if c.target.interval else None, "ratio": c.ratio,
             "met": c.ok, "fit": c.target.fit, "known_gap": c.target.unmet or None,
             "source": model.knowledge.sources[c.target.source].citation()}
            for c in checks
        ]  # fmt: skip
        print(json.dumps(rows, indent=1), file=out)
    else:
        print(calibration_text(checks, model.knowledge), file=out)
    return 0


def _fit(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from model.calibration import fit_links, load_targets, parameters_to_fit, write_calibrated

    model = _model(args)
    targets = load_targets(model, args.targets)
    parameters = parameters_to_fit(model, args.targets)
    found = fit_links(model, targets, parameters, max_iterations=args.iterations)
    print(calibration_text(found.after, model.knowledge), file=out)
    print(
        f"\nloss over the {len(found.targets)} fitted targets: {found.loss_before:.1f} before, "
        f"{found.loss_after:.1f} after",
        file=out,
    )
    for pid, value in found.overrides.items():
        print(f"{pid}: {model.knowledge.parameters[pid].value:g} -> {value:.4g}", file=out)
    if args.write:
        folder = write_calibrated(model.knowledge, found)
        print(f"wrote the fitted values into {folder}", file=err)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m model", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument(
        "--priors", metavar="DIR", help="a knowledge-base folder to use instead of the shipped priors/"
    )
    shared.add_argument(
        "--set", metavar="ID=VALUE", action="append", default=[],
        help="override one parameter (ids from the parameters command); repeatable",
    )  # fmt: skip
    run = commands.add_parser("diagnose", parents=[shared], help="posterior cause probabilities for a case")
    run.add_argument(
        "case", metavar="CASE", help="CASE.json (or CASES.jsonl with --batch); - reads standard input"
    )
    run.add_argument("--format", choices=("json", "text"), default="json")
    run.add_argument(
        "--batch", action="store_true",
        help="CASES.jsonl: one JSON result per line; CASES.csv or .parquet: a table of probabilities",
    )  # fmt: skip
    run.add_argument(
        "--output", metavar="PATH", help="with a CSV or Parquet batch: write here (.csv or .parquet)"
    )
    run.add_argument(
        "--id", metavar="COLUMN", help="with a CSV or Parquet batch: the column identifying each case"
    )
    run.add_argument(
        "--intervals", action="store_true", help="add credible intervals over the uncertainty of the priors"
    )
    run.add_argument(
        "--draws", type=_draws,
        help=f"with --intervals: parameter draws, 1 to {MAX_DRAWS:,} (default {DEFAULT_DRAWS:,})",
    )  # fmt: skip
    run.add_argument(
        "--level", type=_level, help=f"with --intervals: interval mass (default {DEFAULT_LEVEL})"
    )
    run.add_argument("--seed", type=_seed, help="with --intervals: seed of the parameter draws (default 0)")
    run.set_defaults(handler=_diagnose)
    for name, handler, top, about in (
        ("next-questions", _next_questions, 10, "unanswered findings ranked by how much they would tell"),
        ("sensitivity", _sensitivity, 15, "the parameters that move one cause's posterior most"),
    ):
        ranked = commands.add_parser(name, parents=[shared], help=about)
        ranked.add_argument("case", metavar="CASE", help="CASE.json; - reads standard input")
        ranked.add_argument("--top", type=_positive_int, default=top, help="how many rows to show")
        ranked.add_argument("--format", choices=("text", "json"), default="text")
        ranked.set_defaults(handler=handler)
        if name == "next-questions":
            ranked.add_argument("--target", choices=TARGETS, default="differential")
        else:
            ranked.add_argument("--cause", required=True, help="a cause id")
    params = commands.add_parser(
        "parameters", parents=[shared], help="every number in the knowledge base, with its source"
    )
    params.add_argument("--format", choices=("csv", "json"), default="csv")
    params.add_argument(
        "--summary", action="store_true",
        help="count the numbers by kind of evidence, and the derived ones that rest on an assumption",
    )  # fmt: skip
    params.set_defaults(handler=_parameters)
    check = commands.add_parser(
        "evaluate", parents=[shared], help="accuracy and triage on published vignettes"
    )
    check.add_argument("cases", metavar="CASES", nargs="?", help="a case library (default: the shipped one)")
    check.add_argument("--format", choices=("text", "json"), default="text")
    check.add_argument("--pcb-only", action="store_true", help="leave out cases tagged [not PCB]")
    check.set_defaults(handler=_evaluate)
    calib = commands.add_parser(
        "calibration", parents=[shared], help="the model's figures beside published ones"
    )
    calib.add_argument(
        "targets", metavar="TARGETS", nargs="?", help="a targets file (default: priors/calibration.yaml)"
    )
    calib.add_argument("--format", choices=("text", "json"), default="text")
    calib.set_defaults(handler=_calibration)
    fit = commands.add_parser(
        "fit", parents=[shared], help="fit the bleeding links to the published cohorts marked fit"
    )
    fit.add_argument(
        "targets", metavar="TARGETS", nargs="?", help="a targets file (default: priors/calibration.yaml)"
    )
    fit.add_argument(
        "--iterations", type=_positive_int, default=200, help="at most this many optimiser steps"
    )
    fit.add_argument(
        "--write", action="store_true",
        help="store the fitted values in the priors folder's rows, marked calibrated",
    )  # fmt: skip
    fit.set_defaults(handler=_fit)
    export = commands.add_parser("export", parents=[shared], help="write the network as BIF or XMLBIF")
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True)
    export.add_argument("path", metavar="PATH")
    export.set_defaults(handler=_export)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the command line and return the exit status (0, or 2 for bad input).

    Examples
    --------
    >>> import io
    >>> err = io.StringIO()
    >>> main(["diagnose", "missing.json"], out=io.StringIO(), err=err)
    2
    >>> print(err.getvalue(), end="")
    error: missing.json: cannot read (No such file or directory)
    """
    out = out or sys.stdout
    err = err or sys.stderr
    try:
        args = _parser().parse_args(argv)
        status = args.handler(args, out, err)
        out.flush()  # a full disk or a closed pipe shows here, while the error can still be reported
        return status
    except ModelInputError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # the reader stopped reading (``| head``): stop quietly, as Unix tools do
        _abandon(out)
        return EXIT_BROKEN_PIPE
    except OSError as exc:  # e.g. a full disk
        _abandon(out)
        print(f"error: cannot write the output ({exc.strerror or exc})", file=err)
        return EXIT_BAD_INPUT


def _abandon(out: TextIO) -> None:
    """Drop what standard output still holds, so that Python's own flush at exit cannot fail again."""
    if out is sys.stdout:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
