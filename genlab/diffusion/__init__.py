"""Score-based diffusion on known truths: processes, DSM training, samplers, exact likelihood, references.

``fit_diffusion(DiffusionConfig(), x_train, seed=0) -> DiffusionModel`` is the entry point.
"""

from genlab.diffusion.config import DiffusionConfig
from genlab.diffusion.early_stopping import NoisedTruth, noised_truth, t0_schedule, tv_offset
from genlab.diffusion.estimator import DiffusionModel, fit_diffusion
from genlab.diffusion.likelihood import ode_log_prob
from genlab.diffusion.loss import dsm_loss, sample_times
from genlab.diffusion.memorization import distance_to_training, memorization_fraction
from genlab.diffusion.parametrisation import ScoreModel
from genlab.diffusion.processes import VE, Process, VPLinear, VPOrnsteinUhlenbeck, make_process
from genlab.diffusion.reference import EmpiricalOptimalScore, KDEScore, OracleScore, score_error
from genlab.diffusion.sampler_law import LAW_SAMPLERS, ode_sampler_with_log_prob
from genlab.diffusion.samplers import SAMPLERS, make_sampler, time_grid

__all__ = ["DiffusionConfig", "DiffusionModel", "fit_diffusion", "ode_log_prob", "dsm_loss",
           "sample_times", "distance_to_training", "memorization_fraction", "ScoreModel", "VE",
           "Process", "VPLinear", "VPOrnsteinUhlenbeck", "make_process", "EmpiricalOptimalScore",
           "KDEScore", "OracleScore", "score_error", "SAMPLERS", "make_sampler", "time_grid",
           "LAW_SAMPLERS", "ode_sampler_with_log_prob", "NoisedTruth", "noised_truth", "t0_schedule",
           "tv_offset"]
