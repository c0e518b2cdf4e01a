"""Analyze one of the paper's checkpoints layer by layer (needs PyTorch).

Run: python examples/analyze_checkpoint.py [PATH] [--samples N]
"""

import argparse
from pathlib import Path

import numpy as np

from dagtheory.analysis import analyze_attention, summarize
from dagtheory.torch import extract_attention, learned_head_weights, load_checkpoint

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "paper-checkpoints" / "4_heads_copy.pt"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", default=str(DEFAULT))
    parser.add_argument("--samples", type=int, default=2)
    args = parser.parse_args(argv)
    model = load_checkpoint(args.path)
    config = model.config
    tokens = np.random.default_rng(0).integers(0, config["vocab_size"], (args.samples, config["max_len"]))
    attention = extract_attention(model, tokens)                      # (S, L, H, T, T)
    weights = np.stack([learned_head_weights(model, layer) for layer in range(config["n_layers"])])
    summary = summarize(analyze_attention(attention, weights))
    print("layer  fidelity proxy %  φ_min non-sink  ρ      T_mix")
    for layer in range(config["n_layers"]):
        cells = [summary[name]["mean"][layer] for name in
                 ("fidelity_proxy", "minimax_fidelity", "amplification", "mixing_time")]
        print(f"{layer:<6} {cells[0]:<17.4g} {cells[1]:<15.4g} {cells[2]:<6.3f} {cells[3]:g}")


if __name__ == "__main__":
    main()
