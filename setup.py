"""Maps the source folders to their import names (see pyproject.toml).

core/ -> fuwu, plugins/ -> fuwu_plugins, themes/ -> fuwu_themes. Only the
package list needs code: setuptools' find cannot rename folders.
"""
from setuptools import find_packages, setup

FOLDERS = {"core": "fuwu", "plugins": "fuwu_plugins", "themes": "fuwu_themes"}


def renamed_packages():
    for package in find_packages(include=[f"{f}*" for f in FOLDERS]):
        head, _, rest = package.partition(".")
        yield FOLDERS[head] + (f".{rest}" if rest else "")


setup(packages=sorted(renamed_packages()))
