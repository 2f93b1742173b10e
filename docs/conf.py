"""Sphinx configuration: Markdown pages built with MyST, the reference from docstrings."""

from __future__ import annotations

from importlib.metadata import version as _version

project = "crmlifecycle"
author = "The crmlifecycle developers"
copyright = "2026, The crmlifecycle developers"  # noqa: A001 - the name Sphinx reads
release = _version("crmlifecycle")
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinxcontrib.mermaid",
]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
myst_enable_extensions = ["colon_fence", "deflist"]
# ```mermaid fences (the diagrams Lifecycle.to_mermaid() prints) render as diagrams
myst_fence_as_directive = ["mermaid"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = False
html_theme = "furo"
html_static_path: list[str] = []
html_title = "crmlifecycle"
# Docstrings carry doctest examples; they render as code blocks and run in the test suite.
suppress_warnings = ["myst.xref_missing"]
napoleon_use_ivar = True


def _skip_fields_named_type(_app: object, what: str, name: str, *_rest: object) -> bool | None:
    """Leave records' ``type`` fields out of the member lists (their class docstrings say them).

    As link targets they would capture every builtin ``type`` in the type hints.
    """
    return True if what == "class" and name == "type" else None


def setup(app: object) -> None:
    """Connect the member filter."""
    app.connect("autodoc-skip-member", _skip_fields_named_type)  # type: ignore[attr-defined]
