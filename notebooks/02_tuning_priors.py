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
# ## 4. Save the tuned set as a new priors folder
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
print(f"streamlit run app.py -- --priors {folder.resolve()}")
