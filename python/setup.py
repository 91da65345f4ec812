# setup.py - records where the checkout is, so an installed package finds
# the in-tree build of libsockmodel (.libs/libsockmodel.so) and the
# sockmodel program without SOCKMODEL_LIB; everything else is in
# pyproject.toml.  No compiler is needed: the bindings use ctypes.
import os

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPy(build_py):
    def run(self):
        super().run()
        top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        out = os.path.join(self.build_lib, "sockmodel", "_checkout.py")
        with open(out, "w", encoding="utf-8") as f:
            f.write("# generated at install time: the checkout it came from\n")
            f.write("TOP = %r\n" % top)


setup(cmdclass={"build_py": BuildPy})
