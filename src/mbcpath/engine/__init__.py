"""The decision engine."""

from mbcpath.engine.core import recommend

__all__ = ["recommend"]
