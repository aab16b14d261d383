"""A Bayesian network for bleeding or spotting after sex (postcoital bleeding).

The public API: load the cited knowledge base, build the network (optionally with overridden
parameters), and get posterior cause probabilities for a case.

Examples
--------
>>> from model import build_model, diagnose
>>> model = build_model()
>>> result = diagnose(model, {"context": {"age_band": "25_34"}, "findings": {"test_chlamydia": True}})
>>> result.ranking[0]
'chlamydia'
"""

import warnings

# pgmpy 1.1 announces an internal rename of its own on import; users cannot act on it, and a
# command's stderr is kept for their errors. Only that one message is silenced.
warnings.filterwarnings("ignore", message=r"`pgmpy\.estimators\.StructureScore` is deprecated")

from model.case import Case, parse_case  # noqa: E402
from model.errors import CaseError, KnowledgeError, ModelInputError  # noqa: E402
from model.export import export_network  # noqa: E402
from model.inference import Diagnosis, DiagnosticModel, build_model, diagnose  # noqa: E402
from model.knowledge import Knowledge, load_knowledge  # noqa: E402
from model.network import build_network  # noqa: E402

__all__ = [
    "Case",
    "CaseError",
    "Diagnosis",
    "DiagnosticModel",
    "Knowledge",
    "KnowledgeError",
    "ModelInputError",
    "build_model",
    "build_network",
    "diagnose",
    "export_network",
    "load_knowledge",
    "parse_case",
]
