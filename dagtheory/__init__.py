"""dagtheory: the theory of multi-head attention as sink-rooted DAGs.

Every attention head is a weighted feedforward DAG over tokens whose common sink
is the last token. dagtheory computes, exactly or in batched floating point,
how much of each token's signal reaches the sink (fidelity, §2), how fast a
walk reaches it (mixing, §3), and when several heads together beat each one.
Section numbers refer to the project's ``docs/theory.md``.
"""

__version__ = "0.1.0"

from . import examples
from .exceptions import (
    ConvergenceError,
    ConvergenceWarning,
    DagTheoryError,
    DagTheoryWarning,
    InvalidInputError,
    InvalidTypeError,
    MissingDependencyError,
    ResourceLimitError,
    SchedulerError,
    TrappedNodeWarning,
    ZeroColumnError,
)
from .fidelity import (
    NOT_ATTAINED,
    Amplification,
    MinimaxResult,
    NodeFidelity,
    amplification,
    minimax_fidelity,
    node_fidelity,
    signal_curves,
)
from .graph import (
    HeadSystem,
    SinkDAG,
    edge_list_attention,
    forward_walk,
    learned_head_weights,
    longest_paths_to_sink,
)
from .depth import DepthSignal, attention_flow, depth_signal
from .markov import (
    MixingBound,
    MixtureBound,
    absorption_cdf,
    closed_form_bound,
    distance_to_sink,
    forward_probability,
    hitting_times,
    mixing_bound,
    mixing_time,
    mixture_mixing_bound,
    trapped_nodes,
)
from .resources import get_memory_limit, memory_limit, set_memory_limit

__all__ = [
    "__version__",
    "examples",
    "SinkDAG",
    "HeadSystem",
    "edge_list_attention",
    "forward_walk",
    "learned_head_weights",
    "longest_paths_to_sink",
    "NOT_ATTAINED",
    "NodeFidelity",
    "MinimaxResult",
    "Amplification",
    "signal_curves",
    "node_fidelity",
    "minimax_fidelity",
    "amplification",
    "MixingBound",
    "MixtureBound",
    "absorption_cdf",
    "closed_form_bound",
    "distance_to_sink",
    "forward_probability",
    "hitting_times",
    "mixing_bound",
    "mixing_time",
    "mixture_mixing_bound",
    "trapped_nodes",
    "DagTheoryError",
    "InvalidInputError",
    "InvalidTypeError",
    "ZeroColumnError",
    "ConvergenceError",
    "DepthSignal",
    "depth_signal",
    "attention_flow",
    "MissingDependencyError",
    "SchedulerError",
    "ResourceLimitError",
    "get_memory_limit",
    "set_memory_limit",
    "memory_limit",
    "DagTheoryWarning",
    "TrappedNodeWarning",
    "ConvergenceWarning",
]
