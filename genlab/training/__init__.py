"""One training loop for every family (`loop`): Adam, schedule, EMA, NaN guard, checkpoints, resume."""

from genlab.training.loop import (CHECKPOINT_NAME, TrainConfig, TrainingDiverged, TrainResult,
                                  clip_grad_norm_per_replica, ema_update, load_checkpoint, lr_at, save_checkpoint,
                                  train)

__all__ = ["TrainConfig", "TrainResult", "TrainingDiverged", "train", "ema_update", "clip_grad_norm_per_replica",
           "save_checkpoint", "load_checkpoint", "lr_at", "CHECKPOINT_NAME"]
