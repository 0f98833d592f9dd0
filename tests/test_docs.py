"""The examples in README.md and in the public docstrings run and print what they say."""

import doctest
import pathlib
import re
import subprocess
import sys

import pytest

import fastchan as fc

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def _public_docstrings():
    seen = set()
    for name in fc.__all__:
        obj = getattr(fc, name)
        members = [(f"{name}.{a}", getattr(obj, a)) for a in vars(obj) if not a.startswith("_")] if isinstance(obj, type) else []
        for owner, attr in [(name, obj)] + members:
            doc = getattr(attr, "__doc__", None)
            if isinstance(doc, str) and ">>>" in doc and doc not in seen:
                seen.add(doc)
                yield owner, doc


DOCSTRINGS = list(_public_docstrings())


def test_there_are_examples():
    assert len(DOCSTRINGS) >= 8


@pytest.mark.parametrize("owner,doc", DOCSTRINGS, ids=[o for o, _ in DOCSTRINGS])
def test_docstring_examples(owner, doc):
    globs = {name: getattr(fc, name) for name in fc.__all__}
    test = doctest.DocTestParser().get_doctest(doc, globs, owner, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.failures == 0, f"{owner}: {runner.failures} failing example(s)"


@pytest.mark.timeout(60)
def test_readme_python_blocks_run_and_print_their_comments():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks
    for code in blocks:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=50)
        assert out.returncode == 0, out.stderr
        expected = [m.group(1) for m in re.finditer(r"print\(.*\)\s+# (\S+)", code)]
        assert out.stdout.split()[: len(expected)] == [e.rstrip(":") for e in expected]
