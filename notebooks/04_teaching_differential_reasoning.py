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
# # Teaching differential reasoning
#
# For educators and learners: published cases stepped through one finding at a time, to see how
# each answer moves the differential, what a likelihood ratio means, and why red flags sit apart
# from the probabilities. Exercises with answers close the notebook; the answers are hidden cells
# computed by the model, so open them after trying.
#
# The cases come from `priors/cases/vignettes.yaml`, each transcribed from its publication. The
# model is educational decision support: anyone with bleeding after sex should be checked by a
# clinician, and seek care the same day for heavy bleeding, feeling faint, severe pain, fever, any
# bleeding in pregnancy, or after sex that was not wanted.

# %%
import matplotlib.pyplot as plt
import pandas as pd

from model import build_model, diagnose
from model.case import Case
from model.evaluation import load_vignettes
from model.explain import contributions, trajectory
from model.present import contributions_frame, format_probability, trajectory_frame, triage_text
from model.questions import next_questions

model = build_model()
knowledge = model.knowledge
causes = knowledge.vocabulary.causes
library = {v.id: v for v in load_vignettes(model)}


def show_trajectory(case, title):
    """Plot the four causes that lead at the end as the answers accumulate, and return the table."""
    leading = diagnose(model, case).ranking[:4]
    frame = trajectory_frame(case, trajectory(model, case, leading), knowledge)
    ax = frame.plot(marker="o", figsize=(9, 4), ylim=(0, 1), title=title)
    ax.set_xticks(range(len(frame)), frame.index, rotation=30, ha="right")
    ax.set_ylabel("Probability of being present")
    plt.show()
    return frame.style.format("{:.1%}")


# %% [markdown]
# ## 1. Reading the differential one answer at a time
#
# An 18-year-old on the combined pill has had light bleeding after sex more than once. Before any
# answer, the model starts from the context alone: how common each cause is in young women on the
# pill who present with bleeding after sex. Each answer then moves every cause up or down.

# %%
first = library["ectropion_18_cocp_recurrent"]
print(first.title)
print("Source:", knowledge.sources[first.source].citation())
show_trajectory(first.case, "Step by step: " + causes[first.diagnosis].label)

# %% [markdown]
# ## 2. Likelihood ratios: how much one answer is worth
#
# A likelihood ratio (LR) says how much more often an answer is seen with a cause than without it.
# Multiplying the odds of the cause by the LR gives the odds after the answer: an LR of 5 turns
# 1 in 4 odds into 5 in 4; an LR of 1 changes nothing; an LR below 1 points away. The table shows,
# for the final diagnosis, each answer's LR in the order the answers were given, and the
# probability before and after it.

# %%
steps = contributions_frame(contributions(model, first.case, first.diagnosis), knowledge)
steps[["answer", "likelihood_ratio", "before", "after"]].style.format(
    {"likelihood_ratio": "{:.2f}", "before": "{:.1%}", "after": "{:.1%}"}
)

# %% [markdown]
# Two lessons to draw out with learners:
#
# - An answer's LR depends on what is already known. Several causes can explain the same finding,
#   so once one of them has become likely, the next finding it explains adds less.
# - A big LR does not make a common outcome of a rare cause. A cause that starts at 1 in 1,000 is
#   still unlikely after one answer with an LR of 10.

# %% [markdown]
# ## 3. A second case: a polyp
#
# A 28-year-old on the pill bleeds after sex and between periods. Watch how the examination
# finding separates a polyp from an ectropion, two causes that the history alone cannot tell apart.

# %%
second = library["polyp_28_cocp_imb_pcb"]
print(second.title)
print("Source:", knowledge.sources[second.source].citation())
show_trajectory(second.case, "Step by step: " + causes[second.diagnosis].label)

# %% [markdown]
# ## 4. Red flags sit above the probabilities
#
# A 35-year-old had one episode of spotting after sex, and the examination found a raised, irregular
# area on the cervix that bled when touched. Cervical cancer is still far from the most probable
# cause here, because it is rare. But a cervix that looks abnormal must be seen by a specialist
# whatever the probabilities say, and the triage shows that first.

# %%
third = library["cancer_35_single_pcb_cervical_lesion"]
result = diagnose(model, third.case)
print(third.title, "\n")
print(triage_text(result.triage))
print(
    f"\nCervical cancer: {format_probability(result.posteriors['cervical_cancer'])}, "
    f"rank {result.ranking.index('cervical_cancer') + 1} of {len(result.ranking)}."
)

# %% [markdown]
# Each red flag names the guideline behind it:

# %%
pd.DataFrame(
    [
        {"red flag": f.id, "level": f.level, "message": f.message, "source": "; ".join(f.source)}
        for f in result.triage.red_flags
    ]
)

# %%
show_trajectory(third.case, "Step by step: " + causes[third.diagnosis].label)

# %% [markdown]
# ## 5. Which question next?
#
# A good clinician asks the question whose answer would change the most. The model can rank every
# unanswered finding by how much its answer is expected to reduce the uncertainty (in bits), and
# say what each answer would do. Here, a young woman at higher risk of infection whose cervix bled
# on contact: which question should come next?

# %%
start = model.parse(
    {"context": {"age_band": "under_25", "sti_risk": "yes"}, "findings": {"exam_contact_bleeding": True}}
)
pd.DataFrame(
    [
        {"question": knowledge.vocabulary.findings[q.finding].question,
         "chance of yes": format_probability(q.probability_yes),
         "expected gain (bits)": round(q.expected_gain, 3),
         "if yes, leading cause": causes[max(q.if_yes, key=q.if_yes.get)].label,
         "if no, leading cause": causes[max(q.if_no, key=q.if_no.get)].label}
        for q in next_questions(model, start)[:6]
    ]
)  # fmt: skip

# %% [markdown]
# Discuss: why is an examination or test question worth more than most history questions here?
# (Tests and signs with high sensitivity and specificity move the odds most; see section 2.)

# %% [markdown]
# ## 6. Exercises
#
# Try each one before opening its answer (the hidden cell below the question).
#
# **Exercise 1.** In the first case, which single answer moved the probability of an ectropion
# most, and what was its likelihood ratio?

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
strongest = steps.loc[steps["log_odds"].abs().idxmax()]
print(f"Answer: '{strongest['answer']}', likelihood ratio {strongest['likelihood_ratio']:.1f}.")

# %% [markdown]
# **Exercise 2. Unknown is not "no".** A 22-year-old presents with bleeding after sex. What is the
# probability of chlamydia if her test result is not known yet, if it is negative, and if it is
# positive? Why should a test that was not done never be entered as negative?

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
context = {"age_band": "under_25"}
for label, findings in [
    ("not known", {}),
    ("negative", {"test_chlamydia": False}),
    ("positive", {"test_chlamydia": True}),
]:
    probability = diagnose(model, {"context": context, "findings": findings}).posteriors["chlamydia"]
    print(f"Test {label}: {format_probability(probability)}")
print("A negative result lowers the probability; entering 'no' for a test never done would falsely reassure.")

# %% [markdown]
# **Exercise 3. Order.** Give the answers of the first case in the reverse order. Does the final
# probability of an ectropion change? Do the likelihood ratios of the single answers change?

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
reverse = Case(first.case.context, dict(reversed(list(first.case.findings.items()))))
reverse_steps = contributions_frame(contributions(model, reverse, first.diagnosis), knowledge)
print(
    f"Final probability: {steps['after'].iloc[-1]:.2%} in the given order, "
    f"{reverse_steps['after'].iloc[-1]:.2%} reversed: the end point does not depend on the order. "
    "The single likelihood ratios do: each depends on what was known before it."
)
pd.DataFrame(
    {
        "LR in the given order": steps.set_index("answer")["likelihood_ratio"],
        "LR in reverse order": reverse_steps.set_index("answer")["likelihood_ratio"],
    }
).style.format("{:.2f}")

# %% [markdown]
# **Exercise 4. Triage.** A woman after the menopause has bleeding after sex, and nothing else is
# known. What triage level does the model give, and why? Does it depend on how probable a cancer is?

# %% jupyter={"outputs_hidden": true, "source_hidden": true}
after_menopause = diagnose(model, {"context": {"menopause": "post"}})
print(triage_text(after_menopause.triage))
print(
    f"\nWomb cancer is at {format_probability(after_menopause.posteriors['endometrial_cancer'])} and "
    f"cervical cancer at {format_probability(after_menopause.posteriors['cervical_cancer'])}. "
    "The rule 'bleeding_after_menopause' fires on the answers alone, so the level would stand even if "
    "both probabilities were far lower; any rule on a probability can only add to it, never remove it."
)
