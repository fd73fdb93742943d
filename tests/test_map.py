"""The map is true: helpers/__init__.py's docstring and the README's layout name every module."""

import re
from pathlib import Path

import helpers

ROOT = Path(__file__).resolve().parent.parent


def modules() -> list[str]:
    package = ROOT / "helpers"
    return sorted(path.stem if path.is_file() else path.name for path in package.iterdir()
                  if (path.suffix == ".py" and not path.name.startswith("__"))
                  or (path.is_dir() and (path / "__init__.py").is_file()))


def test_the_package_docstring_names_every_module():
    missing = [name for name in modules() if f"``helpers.{name}``" not in helpers.__doc__]
    assert len(modules()) > 10 and not missing, f"helpers/__init__.py does not name {missing}"


def test_the_readme_layout_names_every_module():
    layout = (ROOT / "README.md").read_text().split("## Layout", 1)[1]
    missing = [name for name in modules() if not re.search(rf"\b{name}(\.py|/)", layout)]
    assert not missing, f"the README's layout does not name {missing}"
