"""Synthetic data at scale: a catalogue and realistic watch logs (``streamsettle generate``).

See ``model`` for the viewer model, ``run`` for where the rows go and ``docs/scale.md``.
"""

from streamsettle.synthetic.model import Shares
from streamsettle.synthetic.plan import GenerationPlan, default_viewers
from streamsettle.synthetic.run import GenerationResult, default_streams, generate

__all__ = [
    "GenerationPlan",
    "GenerationResult",
    "Shares",
    "default_streams",
    "default_viewers",
    "generate",
]
