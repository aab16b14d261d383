from model.errors import CaseError, KnowledgeError, ModelInputError


def test_knowledge_error_names_file_entry_and_field():
    error = KnowledgeError(
        "priors/risk_factors.csv", "row 4 (cin -> smoker)", "value", "-1 is not an odds ratio"
    )
    assert (
        str(error) == "priors/risk_factors.csv, row 4 (cin -> smoker), field 'value': -1 is not an odds ratio"
    )
    assert (error.file, error.entry, error.field) == (
        "priors/risk_factors.csv",
        "row 4 (cin -> smoker)",
        "value",
    )


def test_knowledge_error_without_entry_or_field_stays_one_clean_line():
    assert str(KnowledgeError("priors/sources.yaml", "", "", "file not found")) == (
        "priors/sources.yaml: file not found"
    )


def test_case_error_names_the_field():
    error = CaseError("findings.fever", "must be true or false")
    assert str(error) == "findings.fever: must be true or false"
    assert isinstance(error, ModelInputError) and isinstance(error, ValueError)
