"""Training on scikit-learn's digits, side by side: chainrule's Tensor engine vs PyTorch (CPU, one thread).

    python benchmarks/digits_train.py            # 30 epochs, batch 64 (the README table)
    python benchmarks/digits_train.py --quick    # 1 epoch (CI)

Both start from the same weights, see the same mini-batches in the same order and use Adam with
lr 5e-3 (PyTorch as people write it: ``nn.Sequential``, ``F.cross_entropy``, ``torch.optim.Adam``);
the network is 64-128-10 with ReLU, the loss softmax cross-entropy. The two runs alternate
(``--reps`` times each); reported are the median seconds per run, the test accuracy, and the largest
difference between the two runs' per-epoch losses.

Installs nothing; needs ``pip install torch==2.13.0 scikit-learn``.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path

# One thread for everyone: PyTorch is set to one below, and NumPy's BLAS must not spin up threads
# that fight over a shared machine's cores (set before NumPy is imported).
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainrule import Tensor, no_grad  # noqa: E402
from chainrule.data import digits  # noqa: E402
from chainrule.losses import cross_entropy  # noqa: E402
from chainrule.optim import Adam  # noqa: E402
from chainrule.training import digits_model  # noqa: E402


def batches(n: int, batch_size: int, epochs: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    return [
        [order[i : i + batch_size] for i in range(0, n, batch_size)]
        for order in (rng.permutation(n) for _ in range(epochs))
    ]


def run_chainrule(weights, split, schedule):
    model = digits_model()
    for p, w in zip(model.parameters(), weights):
        p.data = w.copy()
    optimizer = Adam(model.parameters(), lr=5e-3)
    epoch_losses = []
    for epoch in schedule:
        total = 0.0
        for batch in epoch:
            loss = cross_entropy(model(Tensor(split.X_train[batch])), split.y_train[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.data) * len(batch)
        epoch_losses.append(total / len(split.X_train))
    with no_grad():
        accuracy = float(np.mean(model(Tensor(split.X_test)).data.argmax(axis=1) == split.y_test))
    return epoch_losses, accuracy


def run_torch(weights, split, schedule):
    """PyTorch as people write it: nn.Sequential, F.cross_entropy, torch.optim.Adam."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10)).double()
    W1, b1, W2, b2 = weights
    with torch.no_grad():
        for linear, W, b in ((model[0], W1, b1), (model[2], W2, b2)):
            linear.weight.copy_(torch.tensor(W.T))  # torch keeps (nout, nin)
            linear.bias.copy_(torch.tensor(b))
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-3)
    X, y = torch.tensor(split.X_train), torch.tensor(split.y_train)
    epoch_losses = []
    for epoch in schedule:
        total = 0.0
        for batch in epoch:
            index = torch.from_numpy(batch)
            loss = F.cross_entropy(model(X[index]), y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(batch)
        epoch_losses.append(total / len(split.X_train))
    with torch.no_grad():
        accuracy = float((model(torch.tensor(split.X_test)).argmax(dim=1).numpy() == split.y_test).mean())
    return epoch_losses, accuracy


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--reps", type=int, default=5, help="runs of each system, alternating (default 5)")
    parser.add_argument("--quick", action="store_true", help="1 epoch, 1 run each (CI)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.reps = 1, 1

    import torch

    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    split = digits(seed=0)
    weights = [p.data.copy() for p in digits_model().parameters()]
    schedule = batches(len(split.X_train), args.batch_size, args.epochs)
    systems = {"chainrule Tensor": run_chainrule, "PyTorch": run_torch}
    seconds = {name: [] for name in systems}
    results = {}
    for rep in range(args.reps):
        names = list(systems) if rep % 2 == 0 else list(reversed(systems))
        for name in names:
            gc.collect()
            start = time.perf_counter()
            results[name] = systems[name](weights, split, schedule)
            seconds[name].append(time.perf_counter() - start)

    ours, theirs = results["chainrule Tensor"], results["PyTorch"]
    difference = max(abs(a - b) for a, b in zip(ours[0], theirs[0]))
    medians = {name: statistics.median(s) for name, s in seconds.items()}
    print(
        f"digits: 64-128-10 MLP, Adam lr 5e-3, batch {args.batch_size}, {args.epochs} epochs, "
        f"float64, {args.reps} runs each, medians"
    )
    print()
    print("| system | seconds per run | vs PyTorch | test accuracy | final training loss |")
    print("|---|---:|---:|---:|---:|")
    for name, (losses, accuracy) in results.items():
        print(
            f"| {name} | {medians[name]:.2f} | {medians['PyTorch'] / medians[name]:.2f}x faster | "
            f"{accuracy:.2%} | {losses[-1]:.4f} |"
        )
    print()
    print(f"largest difference between the two runs' epoch losses: {difference:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
