"""Synthetic data at scale: a catalogue and realistic watch logs (``streamsettle generate``).

See ``model`` for the viewer model, ``run`` for where the rows go and ``docs/scale.md``.
"""

from streamsettle.services.generate.model import Shares
from streamsettle.services.generate.plan import GenerationPlan, default_viewers
from streamsettle.services.generate.run import GenerationResult, default_streams, generate

__all__ = [
    "GenerationPlan",
    "GenerationResult",
    "Shares",
    "default_streams",
    "default_viewers",
    "generate",
]
