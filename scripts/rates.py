"""Sweep a recipe over the training size n and seeds; fit rates; draw them beside theory.

    python scripts/rates.py recipe=empirical_uniform [rates.n=[...]] [rates.seeds=K]
    python scripts/rates.py recipe=diffusion_gmm hydra/launcher=submitit_slurm ...

Prints the sweep directory last; see `genlab.cli.rates` for what it writes.
"""

import sys

from genlab.cli.rates import main

if __name__ == "__main__":
    sys.exit(main())
