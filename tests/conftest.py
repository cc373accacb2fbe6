import os
import sys

# Tests import the installed ember. For an in-tree build (CONTRIBUTING.md), set EMBER_INPLACE=1.
if os.environ.get("EMBER_INPLACE"):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "core"))
