"""Small networks: replica-batched linear layers, a time-conditioned MLP."""

from genlab.nn.embedding import SinusoidalEmbedding
from genlab.nn.linear import ReplicaLinear
from genlab.nn.mlp import ACTIVATIONS, TimeMLP

__all__ = ["SinusoidalEmbedding", "ReplicaLinear", "TimeMLP", "ACTIVATIONS"]
