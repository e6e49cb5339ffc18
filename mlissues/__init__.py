"""mlissues: a toolkit for empirical studies of system-related issues in ML frameworks.

This package is only the application shell (version and the `mlissues` command). The work is
done by the sibling packages: db, miner, taxonomy, classifier and analysis.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("mlissues")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
