"""From how many pretraining tasks on does a transformer learn ridge in context?  The study of issue 15, item 5.

    python scripts/task_diversity.py [M=1,4,16,...,32768,0] [seeds=3] [jobs=2] [out_dir=runs/task_diversity]

Runs (or skips when complete) ``recipe=icl_task_diversity`` at every pool size M (0 = unbounded) and seed,
and tabulates the error on pool and fresh tasks beside dMMSE and ridge, the distance of the model to each,
and the threshold M*; see `genlab.cli.task_diversity`.
"""

import sys

from genlab.cli.task_diversity import main

if __name__ == "__main__":
    sys.exit(main())
