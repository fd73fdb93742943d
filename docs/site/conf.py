"""Sphinx configuration of the course's website (scripts/build_site.py stages the sources, runs it).

myst-nb reads the staged notebooks and renders their stored outputs (nb_execution_mode = "off":
nothing runs). Nothing is loaded from another site when a page is viewed: MathJax 2.7 is copied
from the jupyter-server-mathjax package into _static/mathjax, the widget scripts myst-nb would take
from a CDN are off (no notebook stores widget state), and the theme (furo) ships its own CSS and JS.
"""

import base64
import hashlib
import shutil
from pathlib import Path

import jupyter_server_mathjax
import nbformat
from docutils import nodes

project = "Deep learning, one notebook at a time"
author = "the course's authors"
copyright = "the course's authors"   # noqa: A001 (Sphinx's name)

extensions = ["myst_nb"]
nb_execution_mode = "off"
nb_ipywidgets_js = {}                 # no CDN scripts; no notebook stores widget state
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3              # notebooks link to their own sections with #anchors
exclude_patterns = ["student/**", ".doctrees", "**/.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]   # notebooks may go from ## to #### in an exercise

html_theme = "furo"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_favicon = "_static/favicon.svg"  # else the browser asks for /favicon.ico, which is not there
html_show_sourcelink = False          # the download is the student copy, not the staged source
html_copy_source = False

MATHJAX_SOURCE = Path(jupyter_server_mathjax.__file__).parent / "static"
# Left out of the copy: the SVG output (HTML-CSS is used), the accessibility explorer (not enabled).
MATHJAX_LEFT_OUT = ("SVG", "a11y")
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
# MyST marks each page "mathjax_ignore" and its math "math"; its own MathJax 3/4 settings are off
# (myst_update_mathjax), since they would replace MathJax 2's configuration.
myst_update_mathjax = False
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]],
                "processEscapes": True, "ignoreClass": "tex2jax_ignore|mathjax_ignore",
                "processClass": "tex2jax_process|math|output_area"},
    # The STIX web fonts are those the package ships. MathJax's probe font "MathJax_Blank" is looked
    # up locally, not at about:blank, which Chromium refuses with a console error (same effect).
    "HTML-CSS": {"availableFonts": [], "webFont": "STIX-Web", "imageFont": None,
                 "styles": {"@font-face": {"font-family": "MathJax_Blank",
                                           "src": "local('MathJax_Blank')"}}},
    "messageStyle": "none",
    "menuSettings": {"assistiveMML": False},
}


def copy_mathjax(app, exception):
    """After an HTML build: the local MathJax under _static/mathjax (where mathjax_path points)."""
    if exception is None and app.builder.format == "html":
        target = Path(app.outdir) / "_static" / "mathjax"
        shutil.copytree(MATHJAX_SOURCE, target, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(*MATHJAX_LEFT_OUT, "*.py"))


def image_descriptions(app):
    """``{SHA-256 of the PNG: alt text}`` of every stored image with ``alt`` in its output metadata.

    myst-nb names each image file after the SHA-256 of its bytes but does not pass ``alt`` on, so
    ``set_alt_texts`` puts it on the image node whose file has that name.
    """
    descriptions = {}
    for path in Path(app.srcdir).glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            for output in cell.get("outputs", []):
                alt = output.get("metadata", {}).get("image/png", {}).get("alt")
                png = output.get("data", {}).get("image/png")
                if alt and png:
                    descriptions[hashlib.sha256(base64.b64decode(png)).hexdigest()] = alt
    app.env.course_image_descriptions = descriptions


def set_alt_texts(app, doctree):
    descriptions = getattr(app.env, "course_image_descriptions", {})
    for image in doctree.findall(nodes.image):
        alt = descriptions.get(Path(image["uri"]).stem)
        if alt and not image.get("alt"):
            image["alt"] = alt


def setup(app):
    app.connect("builder-inited", image_descriptions)
    app.connect("doctree-read", set_alt_texts)
    app.connect("build-finished", copy_mathjax)
