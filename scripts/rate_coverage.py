"""Print the coverage study of `metrics.fit_rate`'s slope interval (the README's table).

    python scripts/rate_coverage.py [reps]

Synthetic sweeps with a known exponent (see `metrics.rate_coverage`): 3, 5 and
8 seeds, seed-to-seed CV 0.05-0.3, without and with a floor in quadrature.
"""

import sys

from metrics.rate_coverage import coverage_table

if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(coverage_table(reps=reps), end="")
