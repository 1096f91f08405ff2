"""`python -m auditor` runs the capi-audit CLI."""

from .cli import main

main()
