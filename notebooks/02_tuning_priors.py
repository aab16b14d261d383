# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Tuning priors
#
# For researchers who want to try other numbers: change any parameter from code (the files in
# `priors/` stay as they are), see what the change does to a set of cases and to the validation
# figures, and, when you are happy with it, write the tuned set as a new folder that the app and
# the command line can load.
#
# The model is educational decision support, not a diagnosis; the numbers you try here change what
# it says, so the cases below are for exploring, not for advising anyone. Bleeding after sex should
# always be checked by a clinician.

# %%
import os
from datetime import datetime
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from model import KnowledgeError, build_model, diagnose, load_knowledge
from model.cli import main as command_line
from model.evaluation import evaluate, load_vignettes, summarise
from model.knowledge import DEFAULT_PRIORS
from model.sensitivity import tornado
from model.uncertainty import posterior_intervals

# Tuned sets are written here: `tuned_priors/` beside this notebook unless PCB_NOTEBOOK_OUTPUT says
# otherwise (the tests point it at a temporary folder).
OUTPUT = Path(os.environ.get("PCB_NOTEBOOK_OUTPUT", "tuned_priors"))

# %% [markdown]
# ## 1. Choose the numbers to change
#
# Every number has a stable id (notebook 1 lists them all; so does `python -m model parameters`).
# Suppose you doubt two numbers that no study gives directly, both marked `expert_estimate`:
#
# - how common a small tear or friction injury is among women presenting with bleeding after sex;
# - how often a cervical ectropion bleeds when touched at examination.
#
# Here we try each at one end of its own 95% interval, read from the files, so that no number is
# typed into the notebook.

# %%
knowledge = load_knowledge()
chosen = {
    "cause_base_rates:coital_trauma": "ci_high",
    "finding_links:ectropion:exam_contact_bleeding": "ci_low",
}
overrides = {pid: getattr(knowledge.parameters[pid], end) for pid, end in chosen.items()}
table = knowledge.parameter_frame().set_index("id").loc[list(chosen)]
table.assign(tuned=pd.Series(overrides))[["value", "tuned", "ci_low", "ci_high", "evidence", "rationale"]]

# %% [markdown]
# ## 2. Override them in code
#
# `build_model(overrides=...)` builds a second model with the new values; the shipped model and the
# files are unchanged. The new values are checked like the files: a probability must lie between 0
# and 1, and an id that does not exist is an error that names the closest real ids.

# %%
shipped = build_model(knowledge)
tuned = build_model(knowledge, overrides=overrides)

try:
    build_model(knowledge, overrides={"cause_base_rates:coital_truama": 0.1})
except KnowledgeError as problem:
    print(problem)

# %% [markdown]
# ## 3. Before and after, on a set of cases
#
# The published cases in `priors/cases/vignettes.yaml` that presented with bleeding after sex make
# a good test set: each has the final diagnosis from its publication.

# %%
vignettes = [v for v in load_vignettes(shipped) if v.presented_with_pcb]
causes = knowledge.vocabulary.causes
watched = ["coital_trauma", "ectropion"]
rows = []
for vignette in vignettes:
    before, after = diagnose(shipped, vignette.case), diagnose(tuned, vignette.case)
    rows.append(
        {
            "case": vignette.id,
            "diagnosis": vignette.diagnosis,
            **{f"{c} before": before.posteriors[c] for c in watched},
            **{f"{c} after": after.posteriors[c] for c in watched},
            "rank of diagnosis before": before.ranking.index(vignette.diagnosis) + 1,
            "rank of diagnosis after": after.ranking.index(vignette.diagnosis) + 1,
        }
    )
comparison = pd.DataFrame(rows).set_index("case")
comparison.style.format({f"{c} {when}": "{:.1%}" for c in watched for when in ("before", "after")})

# %% [markdown]
# The cases where the published diagnosis moved up or down the differential (rank 1 is the top):

# %%
ranks = ["diagnosis", "rank of diagnosis before", "rank of diagnosis after"]
comparison.loc[comparison[ranks[1]] != comparison[ranks[2]], ranks]

# %%
fig, axes = plt.subplots(1, len(watched), figsize=(12, 6), sharey=True)
for ax, cause in zip(axes, watched, strict=True):
    comparison[[f"{cause} before", f"{cause} after"]].plot.barh(
        ax=ax, color=["#bbbbbb", "#c0504d"], legend=False
    )
    ax.set_title(causes[cause].label)
    ax.set_xlabel("Probability of being present")
axes[0].invert_yaxis()
fig.legend(["shipped priors", "tuned"], loc="lower center", ncol=2)
plt.tight_layout(rect=(0, 0.05, 1, 1))
plt.show()

# %% [markdown]
# And on the validation measures of the whole case library (all 47 cases, including those that did
# not present with bleeding after sex): did the change help or hurt?

# %%
library = load_vignettes(shipped)
measures = ["top1", "top3", "under_triage", "over_triage"]
summaries = {
    name: summarise(evaluate(model, library))
    for name, model in (("shipped priors", shipped), ("tuned", tuned))
}
pd.DataFrame({name: {m: summary[m] for m in measures} for name, summary in summaries.items()}).style.format(
    "{:.1%}"
)

# %% [markdown]
# ## 4. Which numbers matter for a case: a tornado plot
#
# Before tuning more numbers, find the ones that matter. `model.sensitivity.tornado` sets each
# parameter in turn to the low and high end of its own 95% interval, all others unchanged, and
# reports how far one cause's posterior moves. Here: a woman in her late forties, overdue for
# cervical screening and a smoker, whose cervix bled on contact; the cause studied is cervical
# cancer, the one a clinician most needs to get right.

# %%
case = {
    "context": {"age_band": "45_54", "menopause": "peri", "screening": "overdue_or_never", "smoker": "yes"},
    "findings": {"exam_contact_bleeding": True, "recurrent": True},
}
swings = tornado(shipped, case, "cervical_cancer")
print(f"P(cervical cancer) with the cited numbers: {swings.attrs['posterior']:.2%}")
swings.head(10)

# %%
top = swings.head(12).iloc[::-1]
fig, ax = plt.subplots(figsize=(9, 6))
base = swings.attrs["posterior"]
ax.barh(top.index, top.at_low - base, left=base, color="#6c8ebf", label="parameter at its low end")
ax.barh(top.index, top.at_high - base, left=base, color="#c0504d", label="parameter at its high end")
ax.axvline(base, color="black", linewidth=1)
ax.set_xlabel("P(cervical cancer | this case)")
ax.set_title("Each number moved across its 95% interval, one at a time")
ax.legend(loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# The widest bars are the numbers worth a better source. Note the kind of each: a bar from an
# `expert_estimate` (no study behind it) is a call for research, one from a large cohort mostly
# reflects how much the case depends on it.

# %%
evidence = knowledge.parameter_frame().set_index("id")[["evidence", "source"]]
swings.head(10).join(evidence)[["value", "ci_low", "ci_high", "swing", "evidence", "source"]]

# %% [markdown]
# ## 5. How sure is the answer? Credible intervals
#
# One at a time is not the whole story: every number is uncertain at once. `posterior_intervals`
# draws all of them together from their stated uncertainty (Beta for probabilities, log-normal for
# odds ratios; seeded, so the figures below are reproducible) and gives the 90% credible interval of
# each cause's posterior, shipped priors against the tuned set.

# %%
spread = {
    name: posterior_intervals(model, case, draws=2000, seed=1)
    for name, model in (("shipped priors", shipped), ("tuned", tuned))
}
table = pd.concat(spread, axis=1).head(8)
table.style.format("{:.1%}")

# %%
fig, ax = plt.subplots(figsize=(9, 5))
for offset, (name, frame) in zip((-0.15, 0.15), spread.items(), strict=True):
    shown = frame.head(8)
    y = range(len(shown))
    ax.errorbar(
        shown.posterior,
        [i + offset for i in y],
        xerr=[shown.posterior - shown.low, shown.high - shown.posterior],
        fmt="o",
        capsize=3,
        label=name,
    )
ax.set_yticks(range(8), [causes[c].label for c in spread["shipped priors"].head(8).index])
ax.invert_yaxis()
ax.set_xlabel("Probability, with 90% credible interval")
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Which numbers drive the width of the interval for cervical cancer? The tornado above answers it
# one number at a time; its top rows are the ones to pin down to narrow the interval.

# %% [markdown]
# ## 6. Save the tuned set as a new priors folder
#
# `Knowledge.write` writes a complete folder: the vocabulary, sources, red flags and cases are
# copied, and the numeric files are rewritten with the tuned values. Each changed row records in its
# rationale that it was tuned, from which value and why, and is marked `expert_estimate`, since the
# number is no longer the source's. The shipped `priors/` folder is never overwritten, and neither
# is a folder that already has files in it, so each run writes a new, dated folder.

# %%
folder = tuned.knowledge.write(
    OUTPUT / f"tuned_{datetime.now():%Y%m%d_%H%M%S}",
    note="tried at the end of its 95% interval in notebook 02_tuning_priors",
)
written = load_knowledge(folder).parameter_frame().set_index("id")
written.loc[list(chosen), ["value", "ci_low", "ci_high", "evidence", "rationale"]]

# %% [markdown]
# The command line loads it with `--priors` (here the example case from `priors/cases/`):

# %%
example = DEFAULT_PRIORS / "cases" / "example_young_on_the_pill.json"
status = command_line(["diagnose", str(example), "--format", "text", "--priors", str(folder)])

# %% [markdown]
# And so does the app. From the project folder, run the command printed below, open the page, and
# look up one of the tuned numbers under "Priors: the numbers behind the model": the page names the
# folder it is using at the top.

# %%
print(f"pcb-app -- --priors {folder.resolve()}")
