"""Build of the one extension module, fastchan._core (metadata lives in pyproject.toml).

Environment switches:
  FASTCHAN_DEBUG=1     -O0 -g, C asserts on
  FASTCHAN_CFLAGS=...  extra compiler flags (e.g. sanitizers)
"""

import os
import sys

from Cython.Build import cythonize
from setuptools import Extension, setup

debug = os.environ.get("FASTCHAN_DEBUG") == "1"
if sys.platform == "win32":
    cflags = ["/W3"] + (["/Od", "/Zi"] if debug else ["/O2"])
else:
    cflags = ["-Wall", "-Wno-unused-function"] + (["-O0", "-g", "-UNDEBUG"] if debug else ["-O2"])
cflags += os.environ.get("FASTCHAN_CFLAGS", "").split()

ext = Extension(
    "fastchan._core",
    ["src/fastchan/_core.pyx"],
    include_dirs=["src/fastchan/includes"],
    depends=[os.path.join("src/fastchan/includes", f) for f in ("fc_atomic.h", "fc_lock.h")],
    extra_compile_args=cflags,
)

setup(
    ext_modules=cythonize(
        [ext],
        compiler_directives={"language_level": "3", "freethreading_compatible": True},
        include_path=["src/fastchan"],
    ),
)
