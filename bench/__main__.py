"""`python -m bench [--quick] [--json out.json]` from the repository root."""
from .run import main

main()
