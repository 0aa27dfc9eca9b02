"""The typed schema of a run (`schema`), composed with a recipe and overrides by Hydra (`compose`)."""

from genlab.config.schema import (EvalConfig, RatesConfig, register_schema, run_schema, truth_identity, truth_kwargs,
                                  truth_schema)

__all__ = ["EvalConfig", "RatesConfig", "RunConfig", "TruthConfig", "run_schema", "truth_schema", "register_schema",
           "truth_kwargs", "truth_identity"]


def __getattr__(name: str):
    """``RunConfig`` and ``TruthConfig``: the schema classes of the registries as they stand (`schema`)."""
    if name in ("RunConfig", "TruthConfig"):
        from genlab.config import schema

        return getattr(schema, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
