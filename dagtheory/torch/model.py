"""The transformer of the paper's trained models, rebuilt so its checkpoints load.

A token sequence ``x_0 .. x_{T-1}`` is embedded as ``token_emb(x_t) + pos_emb(t)``
and passed through ``L`` pre-norm blocks::

    x = x + attn(ln1(x))
    x = x + mlp(ln2(x))

before a final linear map ``out_proj`` to logits over the vocabulary. ``ln1`` and
``ln2`` are RMS norms with a weight and no bias. Attention has ``H`` heads of size
``d = d_model / H``: queries, keys and values are each one ``Linear(d_model,
d_model)`` whose output is reshaped to ``(H, d)``, so head ``h`` owns the features
``h·d .. (h+1)·d - 1``; the scores ``q·k / sqrt(d)`` are masked above the diagonal
(causal), passed through a softmax over keys, and the heads' outputs are
concatenated in order before ``out_proj``. The attention probabilities of head
``h`` in layer ``ℓ`` are the matrix ``A`` of §1 (row = query = receiver).

The state-dict keys and shapes are exactly those of the published checkpoints
(``token_emb``, ``pos_emb``, ``layers.{l}.attn.W_q`` ... ``layers.{l}.ln2``,
``out_proj``), and the parameter count does not depend on ``H``.
"""

import inspect
import math
import numbers

import torch
from torch import nn

from .._validation import check_steps
from ..exceptions import InvalidInputError, InvalidTypeError

__all__ = ["PaperTransformer"]


class _Attention(nn.Module):
    """Multi-head self-attention with separate ``W_q``, ``W_k``, ``W_v`` and ``out_proj``."""

    def __init__(self, d_model, n_heads, dropout, causal):
        super().__init__()
        self.n_heads = n_heads
        self.head_dim = d_model // n_heads
        self.causal = causal
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def _split(self, x):
        batch, length, _ = x.shape
        return x.view(batch, length, self.n_heads, self.head_dim).transpose(1, 2)

    def forward(self, x):
        """Return the attended features ``(B, T, D)`` and the probabilities ``(B, H, T, T)``."""
        batch, length, width = x.shape
        q, k, v = self._split(self.W_q(x)), self._split(self.W_k(x)), self._split(self.W_v(x))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        if self.causal:
            future = torch.ones(length, length, dtype=torch.bool, device=x.device).triu(1)
            scores = scores.masked_fill(future, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        mixed = self.dropout(weights) @ v
        mixed = mixed.transpose(1, 2).reshape(batch, length, width)
        return self.out_proj(mixed), weights


class _Block(nn.Module):
    """One pre-norm block: ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))``."""

    def __init__(self, d_model, n_heads, d_mlp, dropout, causal):
        super().__init__()
        # Registration order matches the checkpoints' key order: attn, ln1, mlp, ln2.
        self.attn = _Attention(d_model, n_heads, dropout, causal)
        self.ln1 = nn.RMSNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, d_mlp), nn.ReLU(), nn.Linear(d_mlp, d_model), nn.Dropout(dropout)
        )
        self.ln2 = nn.RMSNorm(d_model)

    def forward(self, x):
        attended, weights = self.attn(self.ln1(x))
        x = x + attended
        return x + self.mlp(self.ln2(x)), weights


def check_options(options):
    """Refuse keyword options that :class:`PaperTransformer` does not take (``n_heads`` aside).

    Callers that take the head count separately (as ``heads``) pass the other
    constructor options through ``**options``; this names a misspelt one.
    """
    allowed = set(inspect.signature(PaperTransformer).parameters) - {"n_heads"}
    for name in options:
        if name == "n_heads":
            raise InvalidTypeError("pass the head count as heads=H, not n_heads")
        if name not in allowed:
            raise InvalidTypeError(
                f"unknown model option {name!r}; expected some of {sorted(allowed)}"
            )


def _check_dropout(dropout):
    if isinstance(dropout, (bool,)) or not isinstance(dropout, numbers.Real):
        raise InvalidTypeError(f"dropout must be a real number; got {dropout!r}")
    if not 0 <= dropout < 1:
        raise InvalidInputError(f"dropout must lie in [0, 1); got {dropout!r}")
    return float(dropout)


class PaperTransformer(nn.Module):
    """The causal transformer of the paper's trained models.

    Parameters
    ----------
    vocab_size : int
        Number of token ids ``V``.
    d_model : int
        Embedding size ``D``; must be divisible by ``n_heads``.
    n_heads : int
        Number of attention heads ``H``; each has size ``D / H``. The parameter
        count does not depend on it.
    n_layers : int
        Number of pre-norm blocks ``L``.
    d_mlp : int
        Hidden size of each block's MLP.
    max_len : int
        Longest sequence the position embedding covers.
    causal : bool
        Mask future positions (the paper's models are causal).
    dropout : float
        Dropout on the attention probabilities and after each MLP, in training
        mode only; call ``eval()`` for analysis.

    Attributes
    ----------
    config : dict
        The constructor's arguments, enough to rebuild the module.
    token_emb, pos_emb : torch.nn.Embedding
    layers : torch.nn.ModuleList
        Blocks with submodules ``attn`` (``W_q``, ``W_k``, ``W_v``, ``out_proj``),
        ``ln1``, ``mlp`` and ``ln2``.
    out_proj : torch.nn.Linear
        Final map from features to logits.

    Raises
    ------
    InvalidInputError
        For a size below 1, ``d_model`` not divisible by ``n_heads``, or dropout
        outside ``[0, 1)``.

    See Also
    --------
    dagtheory.torch.load_checkpoint : build one from a trained state dict.
    dagtheory.torch.extract_attention : its attention as float64 arrays.

    Examples
    --------
    >>> import torch
    >>> from dagtheory.torch import PaperTransformer
    >>> model = PaperTransformer(n_heads=8).eval()
    >>> sum(p.numel() for p in model.parameters())
    172800
    >>> tokens = torch.randint(0, 256, (2, 10))
    >>> logits, attention = model(tokens, return_attention=True)
    >>> tuple(logits.shape), tuple(attention.shape)
    ((2, 10, 256), (2, 4, 8, 10, 10))
    >>> model.config["n_heads"], model.config["d_model"]
    (8, 64)
    """

    def __init__(self, vocab_size=256, d_model=64, n_heads=4, n_layers=4, d_mlp=128,
                 max_len=100, causal=True, dropout=0.1):
        super().__init__()
        sizes = dict(vocab_size=vocab_size, d_model=d_model, n_heads=n_heads,
                     n_layers=n_layers, d_mlp=d_mlp, max_len=max_len)
        sizes = {name: check_steps(value, name=name, minimum=1) for name, value in sizes.items()}
        if sizes["d_model"] % sizes["n_heads"]:
            raise InvalidInputError(
                f"d_model = {sizes['d_model']} is not divisible by n_heads = {sizes['n_heads']}; "
                "every head needs d_model / n_heads features"
            )
        if not isinstance(causal, bool):
            raise InvalidTypeError(f"causal must be True or False; got {causal!r}")
        dropout = _check_dropout(dropout)
        self.config = dict(sizes, causal=causal, dropout=dropout)
        self.token_emb = nn.Embedding(sizes["vocab_size"], sizes["d_model"])
        self.pos_emb = nn.Embedding(sizes["max_len"], sizes["d_model"])
        self.layers = nn.ModuleList(
            _Block(sizes["d_model"], sizes["n_heads"], sizes["d_mlp"], dropout, causal)
            for _ in range(sizes["n_layers"])
        )
        self.out_proj = nn.Linear(sizes["d_model"], sizes["vocab_size"])

    @property
    def n_heads(self):
        """Number of attention heads per layer."""
        return self.config["n_heads"]

    @property
    def n_layers(self):
        """Number of blocks."""
        return self.config["n_layers"]

    def forward(self, tokens, return_attention=False):
        """Logits for every position, and optionally every layer's attention.

        Parameters
        ----------
        tokens : torch.LongTensor, shape (B, T)
            Token ids in ``[0, vocab_size)``, ``T <= max_len``.
        return_attention : bool
            Also return the attention probabilities.

        Returns
        -------
        logits : torch.Tensor, shape (B, T, vocab_size)
        attention : torch.Tensor, shape (B, L, H, T, T)
            Only with ``return_attention=True``: the softmax probabilities
            (before dropout) of every layer and head, row = query.
        """
        if tokens.ndim != 2:
            raise InvalidInputError(f"tokens must have shape (B, T); got shape {tuple(tokens.shape)}")
        length = tokens.shape[1]
        if length > self.config["max_len"]:
            raise InvalidInputError(
                f"tokens has length {length}, longer than max_len = {self.config['max_len']}"
            )
        positions = torch.arange(length, device=tokens.device)
        x = self.token_emb(tokens) + self.pos_emb(positions)
        attention = []
        for block in self.layers:
            x, weights = block(x)
            attention.append(weights)
        logits = self.out_proj(x)
        if return_attention:
            return logits, torch.stack(attention, dim=1)
        return logits

    def extra_repr(self):
        return ", ".join(f"{name}={value}" for name, value in self.config.items())
