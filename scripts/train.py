"""Train (fit) one estimator on a known truth and evaluate it against the truth.

    python scripts/train.py recipe=diffusion_gmm [key=value ...]
    python scripts/train.py -m recipe=kde_smooth n=500,1000,2000 seed=0,1,2

Writes config.yaml, metrics.json, samples.npz and samples.png to the run
directory and prints that directory, with the headline metrics, last.
"""

from genlab.cli.train import main_entry

if __name__ == "__main__":
    main_entry("train")
