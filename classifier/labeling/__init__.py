"""Labeling workflow: sessions that write every answer at once, sampling strategies (random,
stratified, keyword, active learning), agreement, adjudication and CSV import/export.

The ipywidgets panel lives in classifier.labeling.widgets (imported on demand)."""

from classifier.labeling.agreement import (
    AgreementError,
    AgreementReport,
    adjudicate,
    agreement_report,
    cohen_kappa,
    krippendorff_alpha,
)
from classifier.labeling.sampling import STRATEGIES, Assignment, SamplingError, make_strategy
from classifier.labeling.session import LabelingSession, NothingToLabelError, Progress
from classifier.labeling.store import Annotation, AnnotationError, IssueView
from classifier.labeling.transfer import (
    AnnotationImportError,
    export_annotations,
    import_annotations,
)

__all__ = [
    "STRATEGIES",
    "AgreementError",
    "AgreementReport",
    "Annotation",
    "AnnotationError",
    "AnnotationImportError",
    "Assignment",
    "IssueView",
    "LabelingSession",
    "NothingToLabelError",
    "Progress",
    "SamplingError",
    "adjudicate",
    "agreement_report",
    "cohen_kappa",
    "export_annotations",
    "import_annotations",
    "krippendorff_alpha",
    "make_strategy",
]
