"""The artifact's licence and citation file: present, well formed, and in step with the project."""

from __future__ import annotations

import tomllib

import yaml

from bench import PROJECT_ROOT

REVIEW_DOI = "10.22214/ijraset.2022.40222"


def citation() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "CITATION.cff").read_text())


def test_the_citation_file_cites_the_project_at_its_version_and_the_review_it_checks():
    cff = citation()
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors", "type"):
        assert cff[key], key
    assert str(cff["version"]) == project["version"]
    [review] = [r for r in cff["references"] if r.get("doi") == REVIEW_DOI]
    assert review["type"] == "article" and review["year"] == 2022
    assert "Deployment of Machine Learning Model" in review["title"]


def test_the_licence_the_citation_names_is_the_one_in_the_repository():
    licence = (PROJECT_ROOT / "LICENSE").read_text()
    assert citation()["license"] == "MIT" and licence.startswith("MIT License")
