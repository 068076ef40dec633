"""Relative importance: Shapley/LMG, dominance, relative weights and the classic metrics."""

from __future__ import annotations

__all__: list[str] = []
