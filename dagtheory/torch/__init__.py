"""PyTorch bridge: the paper's transformer, its checkpoints, attention extraction, training.

Importing :mod:`dagtheory` never imports PyTorch; this subpackage does. It
rebuilds the models published with the paper (:class:`PaperTransformer`),
loads their state dicts safely (:func:`load_checkpoint`), reads attention
matrices ``A`` (§1) out of trained models (:func:`extract_attention`) together
with §1's learned head weights (:func:`learned_head_weights`), and trains
parameter-matched families of models on the paper's copy and cycle tasks
(:func:`train_model`, :func:`train_family`). :mod:`~dagtheory.torch.interventions`
ablates and re-weights heads and measures the effect on the task
(:func:`evaluate`, :func:`head_scales`, :func:`ablation_effects`).

Examples
--------
>>> import dagtheory
>>> from dagtheory.torch import PaperTransformer, extract_attention, learned_head_weights
>>> model = PaperTransformer(vocab_size=16, d_model=16, n_heads=2, n_layers=2, max_len=8)
>>> attention = extract_attention(model, [1, 2, 3, 4, 5])
>>> system = dagtheory.HeadSystem.from_attention(attention[0], weights=learned_head_weights(model, 0))
>>> system.H, system.n
(2, 5)
"""

from .checkpoint import CheckpointError, load_checkpoint
from .extract import extract_attention, learned_head_weights
from .interventions import (
    AblationEffects,
    Evaluation,
    ablation_effects,
    ablation_report,
    evaluate,
    head_scales,
    reweight_report,
    reweighting_scales,
)
from .model import PaperTransformer
from .train import TrainResult, copy_batch, cycle_batch, seed_folder, train_family, train_model, train_seeds

__all__ = [
    "PaperTransformer",
    "CheckpointError",
    "load_checkpoint",
    "extract_attention",
    "learned_head_weights",
    "TrainResult",
    "copy_batch",
    "cycle_batch",
    "train_model",
    "train_family",
    "train_seeds",
    "seed_folder",
    "Evaluation",
    "AblationEffects",
    "evaluate",
    "head_scales",
    "reweighting_scales",
    "ablation_effects",
    "ablation_report",
    "reweight_report",
]
