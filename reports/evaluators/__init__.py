"""One pure function per kind of claim: (results, run info, inspections, claim) -> Verdict.

`results` is the tidy table of bench/store/table.py (rows of unverified deployments already
removed), `run` is run.json and `inspections` is inspections.json. Anything missing from them
means "not inspected or not measured in this run": the verdict then says "not measurable here"
and why, it never guesses and never fails. claims.toml names each claim's evaluator from EVALUATORS.
"""

from __future__ import annotations

from reports.evaluators import packages, probed, provenance, served, sizes
from reports.evaluators.common import (
    COMPONENT_NAMES,
    EXTENSION_RULE,
    PAPER_FRAMEWORKS,
    WEB_COMPONENTS,
    Evaluator,
    display,
    subject_of,
)
from reports.evaluators.packages import is_open_source
from reports.evaluators.served import INDISTINGUISHABLE, read_estimate, reading_of

EVALUATORS: dict[str, Evaluator] = {
    "opinion": sizes.opinion,
    "licence": packages.licence,
    "framework_type": packages.framework_type,
    "component": packages.component,
    "components_count": packages.components_count,
    "code_size": sizes.code_size,
    "server_stack": packages.server_stack,
    "scaffold": packages.scaffold,
    "database": packages.database,
    "dynamic_html": served.dynamic_html,
    "rest_api": served.rest_api,
    "serves_model": served.serves_model,
    "performance": served.performance,
    "concurrency": probed.concurrency,
    "security": probed.security,
    **provenance.EVALUATORS,
}

__all__ = [
    "COMPONENT_NAMES",
    "EVALUATORS",
    "EXTENSION_RULE",
    "INDISTINGUISHABLE",
    "PAPER_FRAMEWORKS",
    "WEB_COMPONENTS",
    "display",
    "is_open_source",
    "read_estimate",
    "reading_of",
    "subject_of",
]
