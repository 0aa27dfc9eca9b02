"""At which training size n does a diffusion model stop memorising?  The study of issue 15, item 4.

    python scripts/memorisation.py [recipe=diffusion_gmm|diffusion_subspace] [n=16,32,...,16384] [widths=64,256]
                                   [steps=K1,K2] [seeds=3] [jobs=2] [out_dir=runs/memorisation/<recipe>] [key=value ...]

Runs (or skips when complete) score networks of each width and the empirical-optimal and KDE scores on two
disjoint training sets of each n, compares the two laws, and tabulates memorisation, distances and the
transition n*; see `genlab.cli.memorisation`.
"""

import sys

from genlab.cli.memorisation import main

if __name__ == "__main__":
    sys.exit(main())
