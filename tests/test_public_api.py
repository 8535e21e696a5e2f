"""The public API: every exported name resolves; heavy packages load only on use."""

import subprocess
import sys

import collections_lab as cl


def test_every_public_and_lazy_name_resolves():
    for name in cl.__all__:
        assert getattr(cl, name) is not None, name
    for name in list(cl._LAZY) + list(cl._SUBPACKAGES):
        assert getattr(cl, name) is not None, name


def test_importing_the_package_does_not_import_lifelines_or_sklearn():
    code = ("import sys, collections_lab; "
            "print(any(m.split('.')[0] in ('lifelines', 'sklearn') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "False"
