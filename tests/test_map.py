"""The map is true: the package's docstrings and the README's layout name every module and script.

``helpers/__init__.py`` names each module of the package, each subpackage's docstring names its
own modules, the README's layout names every module and every script, and the repository's root is
computed in one place (``helpers.settings.REPO_ROOT``).
"""

import importlib
import re

import helpers
from helpers.settings import REPO_ROOT

#: Files that still compute the repository's root from ``__file__`` themselves, with their owner:
#: to be replaced by ``helpers.settings.REPO_ROOT`` (issue 28). Nothing new may join them.
OWN_ROOT_STILL = {
    "helpers/coursework/course.py", "helpers/coursework/gradescope.py",  # coursework's owner
    "scripts/grading_samples.py", "tests/test_coursework.py", "tests/test_grade.py",
    "tests/test_grading_channel.py", "tests/test_gradescope.py", "tests/test_lms_and_written.py",
    "tests/test_sandbox.py",                                              # grading's owner
}
COMPUTES_ROOT = re.compile(r"Path\(__file__\)\.resolve\(\)\.(parent\.parent|parents\[\d\])")


def modules(package) -> list[str]:
    """Return the names of the modules and subpackages in a package folder, dunder files aside."""
    return sorted(path.stem if path.is_file() else path.name for path in package.iterdir()
                  if (path.suffix == ".py" and not path.name.startswith("__"))
                  or (path.is_dir() and (path / "__init__.py").is_file()))


def test_the_package_docstring_names_every_module():
    missing = [name for name in modules(REPO_ROOT / "helpers")
               if f"``helpers.{name}``" not in helpers.__doc__]
    assert len(modules(REPO_ROOT / "helpers")) > 10 and not missing, (
        f"helpers/__init__.py does not name {missing}")


def test_each_subpackage_docstring_names_its_modules():
    for subpackage in ("data", "checks", "coursework"):
        doc = importlib.import_module(f"helpers.{subpackage}").__doc__
        missing = [name for name in modules(REPO_ROOT / "helpers" / subpackage)
                   if f"``{name}``" not in doc and f"``helpers.{subpackage}.{name}``" not in doc]
        assert not missing, f"helpers/{subpackage}/__init__.py does not name {missing}"


def test_the_readme_layout_names_every_module_and_script():
    layout = (REPO_ROOT / "README.md").read_text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in modules(REPO_ROOT / "helpers")
               if not re.search(rf"\b{name}(\.py|/)", layout)]
    missing += [path.name for path in sorted((REPO_ROOT / "scripts").glob("*.py"))
                if path.name not in layout]
    assert not missing, f"the README's layout does not name {missing}"


def test_the_repository_root_is_computed_in_one_place():
    files = [*REPO_ROOT.glob("helpers/**/*.py"), *REPO_ROOT.glob("scripts/*.py"),
             *REPO_ROOT.glob("tests/*.py"), REPO_ROOT / "conftest.py"]
    computing = {str(path.relative_to(REPO_ROOT)) for path in files
                 if COMPUTES_ROOT.search(path.read_text())}
    assert computing - OWN_ROOT_STILL == {"helpers/settings.py"}
