"""Clinical behaviour the literature speaks to. Each test names its source; assertions are ranges.

The numbers come from priors/; these tests check that, put together, they reason as the cited
literature and guidance do.
"""

from __future__ import annotations

import pytest

YOUNG_ON_THE_PILL = {"age_band": "25_34", "contraception": "combined_hormonal"}


def test_young_woman_on_the_pill_benign_causes_dominate(posterior, shipped_knowledge):
    """30-year-old on the combined pill, nothing else known: benign causes lead, cancer far below 1%.

    Shapley M et al., Br J Gen Pract 2006 (PMID 16762128): cervical cancer in 1 in 5,600 women with
    PCB at 25-34. Cancer Council Australia NCSP guideline 2022: in young women PCB is usually from
    chlamydia or hormonal contraception.
    """
    result = posterior(YOUNG_ON_THE_PILL)
    causes = shipped_knowledge.vocabulary.causes
    assert not any(causes[c].serious for c in result.ranking[:3])
    assert result.posteriors["cervical_cancer"] < 0.01
    assert result.posteriors["cervical_cancer"] < result.posteriors["cin"] < result.posteriors["ectropion"]


def test_positive_chlamydia_naat_makes_chlamydia_the_top_cause(posterior):
    """NAAT sensitivity >90% and specificity >97% (Cook RL et al., Ann Intern Med 2005, PMID 15941699)."""
    result = posterior(YOUNG_ON_THE_PILL, {"test_chlamydia": True})
    assert result.ranking[0] == "chlamydia"
    assert result.posteriors["chlamydia"] > 0.8


def test_negative_chlamydia_naat_makes_chlamydia_unlikely(posterior):
    """A negative NAAT rules chlamydia out in practice (Cook 2005: sensitivity >90%)."""
    before = posterior({"age_band": "under_25"}).posteriors["chlamydia"]
    after = posterior({"age_band": "under_25"}, {"test_chlamydia": False}).posteriors["chlamydia"]
    assert after < before / 4


def test_postmenopausal_dryness_and_atrophic_exam_point_to_atrophy(posterior):
    """GSM in ~70% of postmenopausal women (Moral E et al., Climacteric 2018); dryness in ~50%
    (Huang AJ et al., Menopause 2010, PMID 19574936). Endometrial cancer rises after the menopause
    (Clarke MA et al., JAMA Intern Med 2018, PMID 30083701: in 9% of postmenopausal bleeding).
    """
    older = posterior({"menopause": "post"}, {"dryness": True, "exam_atrophy": True})
    young = posterior(YOUNG_ON_THE_PILL)
    assert older.ranking[0] == "atrophy"
    assert older.posteriors["endometrial_cancer"] > 10 * young.posteriors["endometrial_cancer"]


@pytest.mark.parametrize(
    ("younger", "older"), [("under_25", "25_34"), ("25_34", "35_44"), ("35_44", "45_54")]
)
def test_cervical_cancer_risk_rises_with_age(posterior, younger, older):
    """Shapley 2006: 1 in 44,000 (20-24), 1 in 5,600 (25-34), 1 in 2,800 (35-44), 1 in 2,400 (45-54)."""
    assert (
        posterior({"age_band": younger}).posteriors["cervical_cancer"]
        < posterior({"age_band": older}).posteriors["cervical_cancer"]
    )


def test_cervix_that_looks_malignant_raises_cancer_by_orders_of_magnitude(posterior):
    """Most cancers in PCB cohorts are visible on speculum: 3 of 4 (Godfrey MAL et al., Sex Reprod
    Healthc 2019), 8 of 10 (Rosenthal AN et al., BJOG 2001, PMID 11212982).
    """
    base = posterior({"age_band": "35_44"}).posteriors["cervical_cancer"]
    seen = posterior({"age_band": "35_44"}, {"exam_cervical_lesion": True}).posteriors["cervical_cancer"]
    assert seen > 30 * base


def test_negative_co_test_makes_precancer_and_cancer_less_likely(posterior):
    """No cancer or HSIL in 83 women with recurrent PCB and a negative HPV and cytology co-test
    (Tan JHJ et al., Aust N Z J Obstet Gynaecol 2020); HPV sensitivity 96.1% for CIN2+ (Cuzick J et al.,
    Int J Cancer 2006, PMID 16586444).
    """
    context = {"age_band": "35_44"}
    before = posterior(context)
    after = posterior(context, {"test_hpv": False, "test_cytology_abnormal": False})
    assert after.posteriors["cin"] < before.posteriors["cin"] / 5
    assert after.posteriors["cervical_cancer"] < before.posteriors["cervical_cancer"] / 5


def test_smoking_and_overdue_screening_raise_precancer(posterior):
    """Current smoking: preinvasive RR 2.11 (Malevolti MC et al., Eur J Cancer Prev 2023, PMID 36440802);
    unscreened: cancer OR 4.1 (Wang J et al., Int J Cancer 2020, PMID 31107987).
    """
    base = posterior({"smoker": "no", "screening": "up_to_date_normal"})
    risky = posterior({"smoker": "yes", "screening": "overdue_or_never"})
    assert risky.posteriors["cin"] > 2 * base.posteriors["cin"]
    assert risky.posteriors["cervical_cancer"] > 4 * base.posteriors["cervical_cancer"]


def test_pelvic_pain_with_motion_tenderness_and_fever_suggests_pid(posterior):
    """CDC minimum criteria: cervical motion, uterine or adnexal tenderness; fever adds specificity
    (CDC STD treatment guidelines 2015; Peipert JF et al., Infect Dis Obstet Gynecol 1997, PMID 18476154).
    """
    before = posterior({"age_band": "under_25", "sti_risk": "yes"}).posteriors["pid"]
    result = posterior(
        {"age_band": "under_25", "sti_risk": "yes"},
        {"pelvic_pain": True, "exam_cervical_motion_tenderness": True, "fever": True},
    )
    assert result.ranking[0] == "pid"
    assert result.posteriors["pid"] > 10 * before


def test_pregnancy_problems_only_in_pregnancy(posterior):
    """A pregnancy problem cannot be the cause without a pregnancy; with one, it is a leading concern
    (first-trimester bleeding in 27%, heavy bleeding triples miscarriage risk: Hasan R et al., Obstet
    Gynecol 2009, PMID 19888046).
    """
    assert posterior({"pregnancy": "not_pregnant"}).posteriors["pregnancy_complication"] == 0.0
    pregnant = posterior({"pregnancy": "first_trimester"}, {"heavy": True})
    assert pregnant.ranking[0] == "pregnancy_complication"


def test_bleeding_in_pregnancy_is_never_put_down_to_contraception_or_periods(posterior):
    """Bleeding in early pregnancy is assessed as a possible pregnancy problem, an ectopic pregnancy
    first (NICE NG126 1.4); a woman still on the pill when she conceived is no exception."""
    pregnant_on_the_pill = posterior({**YOUNG_ON_THE_PILL, "pregnancy": "first_trimester"})
    assert pregnant_on_the_pill.posteriors["breakthrough_bleeding"] == 0.0
    assert pregnant_on_the_pill.posteriors["cyclical_bleeding"] == 0.0
    assert pregnant_on_the_pill.explains["pregnancy_complication"] > pregnant_on_the_pill.explains["cin"]
    assert posterior(YOUNG_ON_THE_PILL).ranking[0] == "breakthrough_bleeding"  # not pregnant: unchanged


def test_positive_pregnancy_test_raises_pregnancy_problems_when_pregnancy_was_unknown(posterior):
    """Urine hCG tests are ~99% specific (Emancipator K et al., Am J Obstet Gynecol 1988, PMID 3348324)."""
    unknown = posterior({"age_band": "25_34"}).posteriors["pregnancy_complication"]
    positive = posterior({"age_band": "25_34"}, {"test_pregnancy": True}).posteriors["pregnancy_complication"]
    assert positive > 5 * unknown


def test_anticoagulants_raise_a_bleeding_tendency(posterior):
    """Abnormal uterine bleeding in up to two-thirds of menstruating women on oral anticoagulants
    (ASH Education Program 2020); heavy menstrual bleeding in 68% (Hassan N et al., Clin Appl Thromb
    Hemost 2024).
    """
    off = posterior({"anticoagulant": "no"}).posteriors["coagulopathy"]
    on = posterior({"anticoagulant": "yes"}).posteriors["coagulopathy"]
    assert on > 10 * off


def test_breastfeeding_raises_atrophy(posterior):
    """Vaginal atrophy in 64% of breastfeeding women, RR 2.34 (Perelmuter S et al., Obstet Gynecol 2025)."""
    context = {"menopause": "pre", "age_band": "25_34"}
    feeding = posterior({**context, "postpartum_breastfeeding": "yes"}).posteriors["atrophy"]
    not_feeding = posterior({**context, "postpartum_breastfeeding": "no"}).posteriors["atrophy"]
    assert feeding > 2 * not_feeding


def test_combined_pill_raises_ectropion(posterior):
    """Combined pill: large ectopy OR 1.8 (Bright PL et al., Contraception 2011, PMID 22018127)."""
    on = posterior({"contraception": "combined_hormonal"}).posteriors["ectropion"]
    off = posterior({"contraception": "none"}).posteriors["ectropion"]
    assert on > off


def test_thickened_endometrium_after_menopause_raises_endometrial_cancer(posterior):
    """Endometrial thickness <=4 mm has a negative predictive value >99% in postmenopausal bleeding
    (ACOG Committee Opinion 734, 2018); thickening carries the risk.
    """
    context = {"menopause": "post", "age_band": "55_plus"}
    thick = posterior(context, {"test_endometrial_thickening": True}).posteriors["endometrial_cancer"]
    thin = posterior(context, {"test_endometrial_thickening": False}).posteriors["endometrial_cancer"]
    assert thick > 5 * thin
    assert thin < 0.01


def test_what_explains_the_bleeding_leads_the_differential_not_what_is_common(posterior):
    """No PCB cohort counts bacterial vaginosis, thrush, fibroids or endometriosis as a cause, although
    they are common (BV in 29%: Koumans EH et al., Sex Transm Dis 2007); UK colposcopy cohorts find
    ectropion in 25-34% and no cause in 39-50% (Abu J et al., J Obstet Gynaecol 2006; Godfrey MAL et al.,
    Sex Reprod Healthc 2019)."""
    result = posterior()
    assert result.ranked_by == "explains" and "ectropion" in result.ranking[:2]
    for bystander in ("bacterial_vaginosis", "candidiasis", "fibroid", "endometriosis"):
        assert result.explains[bystander] < 0.03
    assert result.posteriors["bacterial_vaginosis"] > result.explains["bacterial_vaginosis"] + 0.1


def test_mucopurulent_cervicitis_after_a_new_partner_points_to_chlamydia(posterior):
    """Mucopurulent discharge with pus cells: LR+ 6.2 for chlamydia (Sellors J et al., CMAJ 1998,
    PMID 9475908); CT in half of women with mucopurulent cervicitis at an STD clinic (Brunham RC et al.,
    N Engl J Med 1984)."""
    result = posterior({"sti_risk": "yes"}, {"exam_mucopurulent_cervicitis": True})
    assert result.ranking[0] in ("chlamydia", "cervicitis", "gonorrhea")
    assert result.explains["chlamydia"] > 3 * result.explains["bacterial_vaginosis"] + 0.1


def test_a_positive_gonorrhoea_test_with_pelvic_pain_points_to_infection_not_endometriosis(posterior):
    """NAAT specificity ~100% (Stewart CM et al., Sex Transm Infect 2012); pelvic pain with a positive
    gonorrhoea test calls for PID treatment, not an endometriosis work-up (CDC STI guidelines 2021)."""
    result = posterior(findings={"test_gonorrhea": True, "pelvic_pain": True, "deep_dyspareunia": True})
    assert result.ranking[0] == "gonorrhea"
    assert result.explains["endometriosis"] < 0.05
    assert result.posteriors["pid"] > 3 * posterior().posteriors["pid"]


def test_a_cervix_that_looks_malignant_carries_the_published_positive_predictive_value(posterior):
    """PPV of a GP-suspected abnormal cervix referred on the NICE NG12 two-week pathway: 0.31% (Jasper
    2022) to about 1 in 70 (a nurse-led colposcopy service); the model, with bleeding after sex, lies
    within a factor of 1.5 of that range at 35-54."""
    for age in ("35_44", "45_54"):
        cancer = posterior({"age_band": age}, {"exam_cervical_lesion": True}).posteriors["cervical_cancer"]
        assert 0.0031 / 1.5 <= cancer <= (1 / 70) * 1.5, age


def test_bleeding_after_the_menopause_with_a_thick_lining_is_not_counted_twice(posterior):
    """Endometrial cancer in 9% (8-11%) of postmenopausal bleeding (Clarke 2018); endometrium over 4 mm
    has sensitivity 96% and specificity 61% (Smith-Bindman R et al., JAMA 1998), LR+ about 2.5, so about
    20% with a thick lining. Bleeding after sex as well does not multiply it again."""
    context = {"menopause": "post"}
    findings = {"postmenopausal_bleeding": True, "test_endometrial_thickening": True}
    both = posterior(context, findings).posteriors["endometrial_cancer"]
    other_only = posterior(context, {**findings, "postcoital_bleeding": False}).posteriors[
        "endometrial_cancer"
    ]
    assert 0.09 <= both <= 0.25
    assert both <= 1.5 * other_only
