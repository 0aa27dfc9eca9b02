"""Known truths: exact sampling, log-density and score, with the metadata theory needs.

>>> import torch
>>> law = make_truth("gmm_anisotropic")
>>> law.sample(3, generator=torch.Generator().manual_seed(0)).shape
torch.Size([3, 2])
"""

from genlab.distributions.base import Distribution, NoDensityError
from genlab.distributions.gaussian import GaussianMixture
from genlab.distributions.law1d import MarginalLaw, has_marginal_law
from genlab.distributions.manifold import Circle, Sphere, SubspaceDensity, random_orthonormal
from genlab.distributions.registry import TRUTHS, make_truth, truth_params
from genlab.distributions.smooth import SmoothDensity
from genlab.distributions.smooth_joint import SmoothJointDensity
from genlab.distributions.uniform import Uniform

__all__ = [
    "Distribution",
    "NoDensityError",
    "GaussianMixture",
    "Uniform",
    "SmoothDensity",
    "SmoothJointDensity",
    "SubspaceDensity",
    "Sphere",
    "Circle",
    "random_orthonormal",
    "MarginalLaw",
    "has_marginal_law",
    "make_truth",
    "truth_params",
    "TRUTHS",
]
