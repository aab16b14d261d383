"""The rules that relate rows of the knowledge base to each other and to the vocabulary.

Each rule is a small function over a `~model.knowledge.Knowledge`; `CHECKS` lists them in the order
they run. The loader and `Knowledge.with_overrides` run them all, so a tuned copy obeys the same
rules as the files.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Protocol

from model.errors import KnowledgeError
from model.parameter import Parameter
from model.vocabulary import Vocabulary


class Knowledge(Protocol):
    """What the rules read of a knowledge base; `model.knowledge.Knowledge` is one.

    The rules take this shape rather than importing the loader, which runs them: no import cycle.
    """

    folder: str
    vocabulary: Vocabulary

    def table(self, name: str) -> Iterator[Parameter]:
        """Iterate over the parameters of one file."""


SUM_TOLERANCE = 1e-3  # rows are typed by hand to three decimals; the network normalises exactly


def _fail(kb: Knowledge, p: Parameter, field: str, problem: str) -> KnowledgeError:
    label = " -> ".join(v for v in p.key.values() if v)
    return KnowledgeError(f"{kb.folder}/{p.table}.csv", f"row {p.row} ({label})", field, problem)


def split_state(text: str, kb: Knowledge) -> tuple[str, str] | None:
    """Split ``variable=state`` into its parts if both are valid context ids, else return None."""
    variable, _, state = text.partition("=")
    var = kb.vocabulary.context.get(variable)
    return (variable, state) if var is not None and state in var.states else None


def _check_context(kb: Knowledge) -> None:
    groups: dict[tuple[str, str], list[Parameter]] = defaultdict(list)
    for p in kb.table("context_prevalence"):
        var = kb.vocabulary.context.get(p.key["variable"])
        if var is None:
            raise _fail(kb, p, "variable", "is not a context variable of vocabulary.yaml")
        if p.key["state"] not in var.states:
            raise _fail(kb, p, "state", f"must be one of: {', '.join(var.states)}")
        given = p.key["given_state"]
        if var.parent is None and given:
            raise _fail(kb, p, "given_state", f"'{var.id}' has no parent variable; leave it empty")
        parent_states = kb.vocabulary.context[var.parent].states if var.parent else ("",)
        if given not in parent_states:
            raise _fail(
                kb, p, "given_state", f"must be a state of '{var.parent}': {', '.join(parent_states)}"
            )
        groups[(var.id, given)].append(p)
    for var in kb.vocabulary.context.values():
        for given in kb.vocabulary.context[var.parent].states if var.parent else ("",):
            rows = groups.get((var.id, given), [])
            missing = set(var.states) - {p.key["state"] for p in rows}
            where = f"{var.id}" + (f" given {var.parent}={given}" if given else "")
            if missing:
                raise KnowledgeError(
                    f"{kb.folder}/context_prevalence.csv",
                    where,
                    "state",
                    f"no row for: {', '.join(sorted(missing))}",
                )
            total = sum(p.value for p in rows)
            if abs(total - 1) > SUM_TOLERANCE:
                raise KnowledgeError(
                    f"{kb.folder}/context_prevalence.csv",
                    where,
                    "value",
                    f"the states sum to {total:.4f}, not 1",
                )


def stratum_variable(kb: Knowledge, cause: str) -> str | None:
    """Return the context variable a cause's base rates are stratified by, or None."""
    for p in kb.table("cause_base_rates"):
        if p.key["cause"] == cause and p.key["stratum"]:
            return p.key["stratum"].partition("=")[0]
    return None


def _check_base_rates(kb: Knowledge) -> None:
    rows: dict[str, list[Parameter]] = defaultdict(list)
    for p in kb.table("cause_base_rates"):
        if p.key["cause"] not in kb.vocabulary.causes:
            raise _fail(kb, p, "cause", "is not a cause of vocabulary.yaml")
        if p.key["stratum"] and split_state(p.key["stratum"], kb) is None:
            raise _fail(kb, p, "stratum", "must be empty or variable=state with ids of vocabulary.yaml")
        rows[p.key["cause"]].append(p)
    for cause in kb.vocabulary.causes:
        found = rows.get(cause)
        if not found:
            raise KnowledgeError(f"{kb.folder}/cause_base_rates.csv", cause, "cause", "has no base rate row")
        strata = {p.key["stratum"].partition("=")[0] for p in found}
        if len(strata) > 1:
            raise _fail(kb, found[-1], "stratum", "mixes strata; use one variable (or none) per cause")
        variable = strata.pop()
        if variable:
            states = set(kb.vocabulary.context[variable].states)
            missing = states - {p.key["stratum"].partition("=")[2] for p in found}
            if missing:
                raise _fail(kb, found[-1], "stratum", f"no row for {variable}={', '.join(sorted(missing))}")


def _check_risk_factors(kb: Knowledge) -> None:
    reference: dict[tuple[str, str], str] = {}
    for p in kb.table("risk_factors"):
        cause, variable = p.key["cause"], p.key["variable"]
        if cause not in kb.vocabulary.causes:
            raise _fail(kb, p, "cause", "is not a cause of vocabulary.yaml")
        var = kb.vocabulary.context.get(variable)
        if var is None:
            raise _fail(kb, p, "variable", "is not a context variable of vocabulary.yaml")
        for column in ("state", "reference_state"):
            if p.key[column] not in var.states:
                raise _fail(kb, p, column, f"must be one of: {', '.join(var.states)}")
        if p.key["state"] == p.key["reference_state"]:
            raise _fail(kb, p, "state", "is its own reference state")
        if reference.setdefault((cause, variable), p.key["reference_state"]) != p.key["reference_state"]:
            raise _fail(
                kb, p, "reference_state", "differs from an earlier row of the same cause and variable"
            )
        if stratum_variable(kb, cause) == variable:
            raise _fail(kb, p, "variable", f"is already the stratum of {cause}'s base rates")


def _check_findings(kb: Knowledge) -> None:
    leaks = {}
    for p in kb.table("finding_leaks"):
        if p.key["finding"] not in kb.vocabulary.findings:
            raise _fail(kb, p, "finding", "is not a finding of vocabulary.yaml")
        leaks[p.key["finding"]] = p
    missing = [f for f in kb.vocabulary.findings if f not in leaks]
    if missing:
        raise KnowledgeError(
            f"{kb.folder}/finding_leaks.csv", "", "finding", f"no row for: {', '.join(missing)}"
        )
    linked = set()
    for p in kb.table("finding_links"):
        source, finding = p.key["link_source"], p.key["finding"]
        if finding not in kb.vocabulary.findings:
            raise _fail(kb, p, "finding", "is not a finding of vocabulary.yaml")
        if source not in kb.vocabulary.causes and split_state(source, kb) is None:
            raise _fail(kb, p, "link_source", "must be a cause id or variable=state of vocabulary.yaml")
        if p.value < leaks[finding].value:
            raise _fail(
                kb,
                p,
                "value",
                f"{p.value} is below the leak {leaks[finding].value} of {finding}; "
                "a noisy-OR link cannot make a finding less likely",
            )
        linked.add(finding)
    unlinked = [f for f in kb.vocabulary.findings if f not in linked]
    if unlinked:
        raise KnowledgeError(
            f"{kb.folder}/finding_links.csv", "", "finding", f"no link for: {', '.join(unlinked)}"
        )


def _check_presenting(kb: Knowledge) -> None:
    """Require a link to the presenting finding from every cause, and none from a context state."""
    presenting = kb.vocabulary.presenting
    if presenting is None:
        return
    linked = set()
    for p in kb.table("finding_links"):
        if p.key["finding"] != presenting:
            continue
        if p.key["link_source"] not in kb.vocabulary.causes:
            raise _fail(
                kb, p, "link_source", f"the presenting finding '{presenting}' is linked to causes only"
            )
        linked.add(p.key["link_source"])
    missing = [c for c in kb.vocabulary.causes if c not in linked]
    if missing:
        raise KnowledgeError(
            f"{kb.folder}/finding_links.csv", presenting, "link_source",
            f"the presenting finding needs a link from every cause; none for: {', '.join(missing)}",
        )  # fmt: skip


CHECKS = (_check_context, _check_base_rates, _check_risk_factors, _check_findings, _check_presenting)
