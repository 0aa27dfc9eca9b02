"""genlab: a testbed for the statistical theory of deep generative models.

Truths with known law (`genlab.distributions`), estimators that learn them
(`genlab.baselines`, `genlab.diffusion`, `genlab.gan`, `genlab.icl`), and the
run / sweep machinery (`genlab.run`, `genlab.sweep`) that turns distances to the
truth into empirical rates beside theory (`genlab.theory`).  Distances
themselves live in the standalone `metrics` package.

A family or a truth is added from outside the package with `register_family`
and `register_truth` (README, "Extending genlab"; CONTRIBUTING.md).
"""

from genlab.core.family import Family, Fitted, ReplicaFit, register_family
from genlab.distributions.registry import register_truth

__version__ = "0.1.0"

__all__ = ["Family", "Fitted", "ReplicaFit", "register_family", "register_truth", "__version__"]
