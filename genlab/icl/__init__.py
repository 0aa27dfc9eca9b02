"""In-context learning of regression by small transformers, with batched baselines and theory.

prompts (task laws) -> models (transformer, one LSA layer) -> train -> evaluate
(error against k with CIs) beside baselines (least squares, ridge, one-step GD,
averaging, kNN, Lasso, discrete MMSE) and `genlab.theory.icl` curves; `run_icl`
ties them into one run.
"""

from genlab.icl.config import ICLConfig
from genlab.icl.models import ICLTransformer, LinearSelfAttention, make_model
from genlab.icl.prompts import Prompts, PromptSampler
from genlab.icl.run import run_icl

__all__ = ["ICLConfig", "ICLTransformer", "LinearSelfAttention", "make_model", "Prompts", "PromptSampler",
           "run_icl"]
