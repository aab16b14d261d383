"""Compare pgmpy, pyAgrum and the fast engine on the shipped network, in one process. Prints figures only.

Run ``python benchmarks/engines.py`` (pyAgrum comes with ``pip install -e ".[benchmark]"``). Every
figure is a median over repeats on the same fixed cases; every ratio is measured in this run. The
engines are also checked to agree: the fast engine with pgmpy to 1e-9, pyAgrum (reading the
exported BIF, whose numbers are written to a fixed precision) with pgmpy to 1e-6.

Targets (from the project's issue on fast inference):
- one full posterior: fast engine at least 20 times faster than pyAgrum's LazyPropagation;
- the whole next-best-question ranking: faster than one pgmpy posterior;
- 90% intervals from 2,000 parameter draws: faster than 10 pgmpy posteriors;
- 100,000 cases scored at least 1,000 times faster than a pgmpy loop would take.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from model import build_model, export_network
from model.batch import score, simulate_cohort
from model.inference import posterior_of, posteriors_given, probability_none_of
from model.questions import next_questions
from model.uncertainty import posterior_intervals

# Realistic presentations, from none to many positive findings; context as a clinician records it.
YOUNG = {
    "age_band": "under_25",
    "menopause": "pre",
    "pregnancy": "not_pregnant",
    "sti_risk": "yes",
    "contraception": "combined_hormonal",
    "smoker": "no",
    "screening": "up_to_date_normal",
}
MIDLIFE = {
    "age_band": "45_54",
    "menopause": "peri",
    "pregnancy": "not_pregnant",
    "contraception": "none",
    "smoker": "yes",
    "screening": "overdue_or_never",
}
OLDER = {"age_band": "55_plus", "menopause": "post", "contraception": "none", "anticoagulant": "no"}
CASES = {
    "context only": (YOUNG, {}),
    "1 positive": (YOUNG, {"exam_contact_bleeding": True, "test_chlamydia": False}),
    "2 positives": (YOUNG, {"exam_contact_bleeding": True, "abnormal_discharge": True, "fever": False}),
    "3 positives": (
        MIDLIFE,
        {
            "exam_contact_bleeding": True,
            "recurrent": True,
            "intermenstrual_bleeding": True,
            "test_hpv": False,
        },
    ),
    "5 positives": (
        OLDER,
        {
            "postmenopausal_bleeding": True,
            "dryness": True,
            "superficial_dyspareunia": True,
            "exam_atrophy": True,
            "recurrent": True,
            "heavy": False,
        },
    ),
    "8 positives": (
        MIDLIFE,
        {
            "exam_contact_bleeding": True,
            "recurrent": True,
            "intermenstrual_bleeding": True,
            "heavy_periods": True,
            "pelvic_pain": True,
            "deep_dyspareunia": True,
            "test_uterine_mass_on_ultrasound": True,
            "weight_loss": True,
        },
    ),
}


def median_time(run: Callable[[], object], repeats: int) -> float:
    """Return the median wall time of ``run`` in seconds, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    """Run every comparison and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cohort", type=int, default=100_000, help="cases in the batch comparison")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    import pyagrum as gum

    model = build_model()
    causes = list(model.knowledge.vocabulary.causes)
    serious = [c for c, cause in model.knowledge.vocabulary.causes.items() if cause.serious]
    with tempfile.TemporaryDirectory() as folder:
        bif = Path(folder) / "network.bif"
        export_network(model.network, bif, "bif")
        agrum = gum.LazyPropagation(gum.loadBN(str(bif)))

    def evidence_of(context: dict, findings: dict) -> dict[str, str]:
        """Return the evidence of a case as diagnose sees it: the complaint "yes" unless answered."""
        return model.parse({"context": context, "findings": findings}).evidence()

    def pgmpy_full(evidence: dict) -> list[float]:
        return [posterior_of(model, c, evidence) for c in causes]

    def agrum_full(evidence: dict) -> list[float]:
        agrum.eraseAllEvidence()
        agrum.setEvidence(evidence)
        agrum.makeInference()
        return [agrum.posterior(c)[1] for c in causes]

    def fast_full(evidence: dict) -> np.ndarray:
        return posteriors_given(model, [evidence])[0]

    print(f"One full posterior (all {len(causes)} causes, with bleeding after sex), median seconds")
    print(
        f"{'case':<14} {'pgmpy VE':>10} {'pyAgrum LP':>11} {'fast':>10} {'pyAgrum/fast':>13} "
        f"{'max |fast-pgmpy|':>17}"
    )
    pgmpy_times, ratios = [], []
    for name, (context, findings) in CASES.items():
        evidence = evidence_of(context, findings)
        reference = np.array(pgmpy_full(evidence))
        fast = fast_full(evidence)[1 : len(causes) + 1]
        exact = float(np.abs(fast - reference).max())
        assert exact <= 1e-9, (name, exact)
        assert np.abs(np.array(agrum_full(evidence)) - reference).max() <= 1e-6, name
        t_pgmpy = median_time(lambda e=evidence: pgmpy_full(e), max(3, args.repeats // 5))
        t_agrum = median_time(lambda e=evidence: agrum_full(e), args.repeats)
        t_fast = median_time(lambda e=evidence: fast_full(e), args.repeats)
        pgmpy_times.append(t_pgmpy)
        ratios.append(t_agrum / t_fast)
        print(
            f"{name:<14} {t_pgmpy:>10.4f} {t_agrum:>11.5f} {t_fast:>10.5f} {t_agrum / t_fast:>12.1f}x "
            f"{exact:>17.1e}"
        )
    one_pgmpy = statistics.median(pgmpy_times)
    print(
        f"median pyAgrum/fast ratio {statistics.median(ratios):.1f}x (target >= 20x); "
        f"lowest {min(ratios):.1f}x"
    )

    print("\nNext-best-question ranking (every unanswered finding, both answers), median seconds")
    question_ratios = []
    for name in ("1 positive", "3 positives", "5 positives"):
        context, findings = CASES[name]
        case = {"context": context, "findings": findings}
        t_rank = median_time(lambda c=case: next_questions(model, c), max(3, args.repeats // 3))
        question_ratios.append(one_pgmpy / t_rank)
        print(
            f"{name:<14} ranking {t_rank:.4f}   one pgmpy posterior {one_pgmpy:.4f}   "
            f"ratio {one_pgmpy / t_rank:.1f}x (target > 1x)"
        )

    print("\n90% credible intervals from 2,000 parameter draws, median seconds")
    interval_ratios = []
    for name in ("1 positive", "5 positives"):
        context, findings = CASES[name]
        case = {"context": context, "findings": findings}
        t_int = median_time(lambda c=case: posterior_intervals(model, c, draws=2000), 3)
        interval_ratios.append(10 * one_pgmpy / t_int)
        print(
            f"{name:<14} intervals {t_int:.3f}   10 pgmpy posteriors {10 * one_pgmpy:.3f}   "
            f"ratio {10 * one_pgmpy / t_int:.1f}x (target > 1x)"
        )

    print(
        f"\nBatch: {args.cohort:,} cases drawn from the network "
        "(90% of context known, 25% of findings answered)"
    )
    cohort = simulate_cohort(model, args.cohort, seed=0)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    scored = score(model, cohort)
    t_batch = time.perf_counter() - started
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sample = cohort.head(40)
    started = time.perf_counter()
    for _, row in sample.iterrows():
        evidence = {k: v for k, v in row.items() if isinstance(v, str) and v}
        pgmpy_full(evidence)
        probability_none_of(model, causes, evidence)
        probability_none_of(model, serious, evidence)
    per_case = (time.perf_counter() - started) / len(sample)
    for i, (_, row) in enumerate(sample.head(5).iterrows()):
        evidence = {k: v for k, v in row.items() if isinstance(v, str) and v}
        assert np.abs(np.array(pgmpy_full(evidence)) - scored.iloc[i][causes].to_numpy(float)).max() <= 1e-9
    loop = per_case * args.cohort
    print(
        f"fast engine: {t_batch:.1f} s ({t_batch / args.cohort * 1e6:.0f} us per case); "
        f"peak resident memory {rss_after / 1024:.0f} MiB (was {rss_before / 1024:.0f} MiB before scoring)"
    )
    print(
        f"pgmpy loop: {per_case:.3f} s per case on {len(sample)} cases, "
        f"so about {loop:,.0f} s for {args.cohort:,}"
    )
    print(f"ratio {loop / t_batch:,.0f}x (target >= 1,000x)")


if __name__ == "__main__":
    main()
