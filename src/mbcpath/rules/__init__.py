"""The declarative condition language of the knowledge base."""

from mbcpath.rules.conditions import Condition, ConditionError, compile_condition

__all__ = ["Condition", "ConditionError", "compile_condition"]
