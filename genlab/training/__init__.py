"""Training shared by every family: the optimiser schema (`optim`), the loop (`loop`), checkpoints (`checkpoint`)."""

from genlab.training.checkpoint import CHECKPOINT_NAME, TRAIN_FORMAT, Checkpointer, load_checkpoint, save_checkpoint
from genlab.training.loop import TrainingDiverged, TrainResult, clip_grad_norm_per_replica, ema_update, train
from genlab.training.optim import LR_SCHEDULES, OptimConfig, lr_at, make_adam, optim_settings

__all__ = ["OptimConfig", "LR_SCHEDULES", "lr_at", "make_adam", "optim_settings", "TrainResult", "TrainingDiverged",
           "train", "ema_update", "clip_grad_norm_per_replica", "Checkpointer", "save_checkpoint", "load_checkpoint",
           "CHECKPOINT_NAME", "TRAIN_FORMAT"]
