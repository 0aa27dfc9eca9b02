"""genlab: a testbed for the statistical theory of deep generative models.

Truths with known law (`genlab.distributions`), estimators that learn them
(`genlab.baselines`, `genlab.diffusion`, ...), and the run / sweep machinery
that turns distances to the truth into empirical rates beside theory
(`genlab.theory`).  Distances themselves live in the standalone `metrics`
package.
"""

__version__ = "0.1.0"
