"""Errors the model raises for bad knowledge-base files and bad cases.

Both kinds carry enough structure to say exactly where the problem is, so that the CLI, the app and
the loader can show one clear line instead of a traceback.
"""

from __future__ import annotations


class ModelInputError(ValueError):
    """Base class of every error caused by input the user can fix (files or cases)."""


class KnowledgeError(ModelInputError):
    """A problem in one of the files under ``priors/``.

    Parameters
    ----------
    file : str
        The file, as a path relative to the knowledge-base folder's parent (e.g. ``priors/risk_factors.csv``).
    entry : str
        The row or entry, e.g. ``row 14 (chlamydia -> test_chlamydia)``; empty for a whole-file problem.
    field : str
        The column or key at fault; empty when the entry as a whole is wrong.
    problem : str
        What is wrong, and what would be allowed.

    Examples
    --------
    >>> str(KnowledgeError("priors/finding_leaks.csv", "row 3 (fever)", "value", "1.3 is not a probability"))
    "priors/finding_leaks.csv, row 3 (fever), field 'value': 1.3 is not a probability"
    """

    def __init__(self, file: str, entry: str, field: str, problem: str) -> None:
        self.file, self.entry, self.field, self.problem = file, entry, field, problem
        where = ", ".join(part for part in (file, entry, f"field '{field}'" if field else "") if part)
        super().__init__(f"{where}: {problem}")


class CaseError(ModelInputError):
    """A problem in a case (context and findings) given to the model.

    Parameters
    ----------
    field : str
        Where in the case, e.g. ``context.age_band`` or ``findings.fever``.
    problem : str
        What is wrong, and what would be allowed.

    Examples
    --------
    >>> str(CaseError("context.age_band", "'30' is not a state; use one of: under_25, 25_34"))
    "context.age_band: '30' is not a state; use one of: under_25, 25_34"
    """

    def __init__(self, field: str, problem: str) -> None:
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}" if field else problem)


class ArgumentError(ModelInputError):
    """A bad argument to a public function (a count, a level, a mapping of the wrong type).

    Parameters
    ----------
    argument : str
        The argument's name, e.g. ``draws``.
    problem : str
        What is wrong, and what would be allowed.

    Examples
    --------
    >>> str(ArgumentError("draws", "0 is not a whole number from 1 to 100,000"))
    'draws: 0 is not a whole number from 1 to 100,000'
    """

    def __init__(self, argument: str, problem: str) -> None:
        self.argument, self.problem = argument, problem
        super().__init__(f"{argument}: {problem}")
