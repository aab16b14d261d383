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
# # A tour of the model
#
# This notebook walks through the Bayesian network for bleeding or spotting after sex (postcoital
# bleeding, PCB): where its numbers come from, what the network looks like, how it answers a case
# and how to read its answer.
#
# It is educational decision support, not a diagnosis. Bleeding after sex should be checked by a
# clinician; anyone with heavy bleeding, feeling faint, severe pain, fever, any bleeding in
# pregnancy, or after sex that was not wanted should seek care the same day.
#
# Everything here calls the `model` package; nothing is re-implemented in the notebook.

# %%
import matplotlib.pyplot as plt
import networkx as nx
import pandas as pd

from model import build_model, diagnose, load_knowledge
from model.explain import contributions
from model.present import contributions_frame, diagnosis_text, differential_frame, network_dot, network_edges

pd.set_option("display.max_colwidth", 80)

# %% [markdown]
# ## 1. The knowledge base
#
# Every number lives in the `priors/` folder as one row of a CSV file, with its source, the
# population it was measured in and its 95% interval (or the raw count behind it). The words
# (which causes, which findings, which questions) live in `priors/vocabulary.yaml`.

# %%
knowledge = load_knowledge()
vocabulary = knowledge.vocabulary
pd.Series(
    {
        "context variables": len(vocabulary.context),
        "causes": len(vocabulary.causes),
        "findings": len(vocabulary.findings),
        "parameters (numbers)": len(knowledge.parameters),
        "publications cited": len(knowledge.sources),
    },
    name="count",
).to_frame()

# %% [markdown]
# The causes, with the ones the model treats as serious (so the app draws them in a second colour):

# %%
pd.DataFrame(
    [{"id": c.id, "cause": c.label, "serious": c.serious} for c in vocabulary.causes.values()]
).set_index("id")

# %% [markdown]
# ## 2. The network
#
# Three layers: the **context** (age, menopause, pregnancy, contraception...) sets how likely each
# **cause** is, and each cause makes some **findings** (history, examination, tests) more likely.
# The picture below lays the layers out left to right; every arrow is a dependency in the network.
# Bleeding after sex, the presenting complaint, has every cause as a parent: any of them can produce
# it. (pgmpy stores that one noisy-OR as a chain of small link and OR nodes, so that its table does
# not need 2^22 columns; the picture shows the dependencies they stand for.)

# %%
model = build_model(knowledge)
graph = nx.DiGraph(network_edges(knowledge))
layers = {
    **{v: 0 for v in vocabulary.context},
    **{c: 1 for c in vocabulary.causes},
    **{f: 2 for f in vocabulary.findings},
}
nx.set_node_attributes(graph, layers, "layer")
fig, ax = plt.subplots(figsize=(12, 14))
nx.draw_networkx(
    graph,
    pos=nx.multipartite_layout(graph, subset_key="layer"),
    ax=ax,
    node_size=60,
    font_size=7,
    arrowsize=5,
    width=0.3,
    node_color=[["#bbbbbb", "#c0504d", "#6c8ebf"][layers[n]] for n in graph.nodes],
)
ax.set_title("Context (grey) -> causes (red) -> findings (blue)")
ax.axis("off")
plt.show()

# %% [markdown]
# For a clearer picture, `model.present.network_dot` gives the same network as Graphviz DOT text
# (with labels), which any Graphviz viewer draws; the app shows it under "The network".

# %%
print(network_dot(knowledge)[:400], "...")

# %% [markdown]
# ## 3. Every parameter, with its source and uncertainty
#
# `parameter_frame()` lists every number. The `id` column is the stable name used to override a
# number from code (notebook 2), on the command line (`--set ID=VALUE`) and in the app.

# %%
parameters = knowledge.parameter_frame()
parameters[["id", "value", "ci_low", "ci_high", "events", "total", "evidence", "source"]]

# %% [markdown]
# How each number is supported. `derived` numbers were computed from published figures (the
# rationale shows the arithmetic); `expert_estimate` numbers have no study behind them and carry
# their reasoning. They are the first place to look when tuning.

# %%
parameters.groupby(["table", "evidence"]).size().unstack(fill_value=0)

# %%
parameters.loc[parameters["expert_estimate"], ["id", "value", "ci_low", "ci_high", "rationale"]]

# %% [markdown]
# One row in full: where the prevalence of cervical polyps among sexually active women comes from.
# The share among women who present with bleeding after sex is not typed in anywhere: it follows by
# Bayes' rule from this prevalence and the polyp's link to bleeding after sex, the next row.

# %%
parameters.set_index("id").loc["cause_base_rates:cervical_polyp"]

# %%
parameters.set_index("id").loc["finding_links:cervical_polyp:postcoital_bleeding"]

# %% [markdown]
# ## 4. Answering a case
#
# A case is the context and the answers that are known. Anything not asked about is simply left
# out: the model averages over it. Only an explicit `False` means "checked, and absent". The one
# exception is the presenting complaint, bleeding after sex, which every case has unless it says
# `"postcoital_bleeding": False` (bleeding at other times, such as after the menopause).
#
# Here, a woman of 30 on the combined pill, not pregnant, with bleeding after sex more than once, an
# unusual discharge, and a cervix that bled when touched at examination.

# %%
case = {
    "context": {"age_band": "25_34", "contraception": "combined_hormonal", "pregnancy": "not_pregnant"},
    "findings": {"recurrent": True, "abnormal_discharge": True, "exam_contact_bleeding": True},
}
result = diagnose(model, case)
print(diagnosis_text(result, knowledge))

# %% [markdown]
# The triage comes first, above the probabilities, and never depends on them being high: a red flag
# shows whatever the probabilities say. Below it, two questions about each cause:
#
# - **explains the bleeding**: the probability that the cause is present *and* is what produced the
#   bleeding after sex (in the noisy-OR, that its own link fired). This orders the differential;
#   the last line, "no modelled cause explains it", is the bleeding no modelled cause accounts for,
#   which published clinics report for 40 to 50 in 100 women.
# - **present**: the probability that the cause is there at all, whether or not it caused the
#   bleeding. A common condition that rarely bleeds (bacterial vaginosis) can be present in a
#   quarter of women and still explain almost none of the bleeding.
#
# Several causes can be present together, so neither column adds up to 100%.

# %%
differential = differential_frame(result, knowledge)
top = differential.head(10).iloc[::-1]
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.barh(top["label"], top["value"], color=top["serious"].map({True: "#c0504d", False: "#6c8ebf"}))
ax.scatter(top["value_before"], top["label"], color="black", marker="|", s=200, label="before other answers")
ax.set_xlabel("Probability that the cause explains the bleeding")
ax.set_xlim(0, 1)
ax.legend(loc="lower right")
plt.show()

# %% [markdown]
# ## 5. Explaining the posterior
#
# Why did the leading cause move? `contributions` adds the answers one at a time and records how much
# each changed the log-odds that the cause is present (the first answer is the complaint itself). A
# positive step points towards the cause, a negative one away from it; the likelihood ratio is the
# factor by which that answer multiplied the odds. The steps add up exactly to the move from the
# context-only probability to the probability now.

# %%
leading = result.ranking[0]
steps = contributions_frame(contributions(model, result.case, leading), knowledge)
print(f"Explaining: {vocabulary.causes[leading].label}")
steps

# %%
fig, ax = plt.subplots(figsize=(7, 2.5))
ax.barh(
    steps["answer"], steps["log_odds"], color=["#c0504d" if v > 0 else "#6c8ebf" for v in steps["log_odds"]]
)
ax.axvline(0, color="black", linewidth=0.8)
ax.set_xlabel(f"Change in log-odds of {vocabulary.causes[leading].label.lower()}")
ax.invert_yaxis()
plt.show()

# %% [markdown]
# Notebook 2 shows how to change any of these numbers from code and write a tuned set the app can
# load; notebook 3 fits numbers to a published cohort; notebook 4 steps through cases for teaching.
