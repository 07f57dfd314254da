"""pytest settings for the whole repository (tests/ and the notebooks in book/).

Under pytest the Fashion-MNIST case studies run in quick mode (OPTBOOK_QUICK=1: a stratified 10,000/2,000
subset, at most 3 epochs), so that CI stays within minutes; the notebook kernels and the book build that
tests/test_site.py runs inherit the setting. `OPTBOOK_QUICK=0 pytest ...` runs the full case studies.
"""

import os

os.environ.setdefault("OPTBOOK_QUICK", "1")
