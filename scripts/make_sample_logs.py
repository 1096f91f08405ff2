#!/usr/bin/env python3
"""Regenerate the sample inputs under sample_logs/ (and sample_logs/README.md).

    python3 scripts/make_sample_logs.py

Standard library only; the generator is the package scripts/samplegen/ (see
its docstring for the formats and the layout).  Re-running rewrites every
file byte for byte.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # scripts/, also when imported

from samplegen.main import main  # noqa: E402

if __name__ == "__main__":
    main()
