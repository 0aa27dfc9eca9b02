"""Does a lazy score network behave like a kernel score estimator?  The table of issue 17, item 6.

    python scripts/score_regimes.py [n=1000,10000] [seeds=3] [jobs=2] [out_dir=runs/score_regimes]

Runs (or skips when complete) five score estimators on diffusion_gmm's truth and
tabulates TV, score error, memorisation and weight movement; see
`genlab.cli.score_regimes`.
"""

import sys

from genlab.cli.score_regimes import main

if __name__ == "__main__":
    sys.exit(main())
