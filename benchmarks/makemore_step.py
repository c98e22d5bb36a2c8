"""One training step of the makemore lecture's model, side by side: chainrule vs PyTorch, float64 and float32.

    python benchmarks/makemore_step.py            # the README table
    python benchmarks/makemore_step.py --quick    # a tiny run, so CI notices if this script rots

The model is ``chainrule train names``' (``chainrule.makemore.names_model``): Embedding(27, 10),
Flatten, Linear(30, 200, no bias), BatchNorm1d(200), Tanh, Linear(200, 27), one step being a random batch
of 32 examples of the names' training set, forward, cross-entropy, backward and an SGD update at lr 0.1.
PyTorch runs it as people write it (``nn.Sequential`` of the same layers, ``F.cross_entropy``,
``torch.optim.SGD``). Every system starts from the same weights and sees the same batches; all run on
one thread (PyTorch set to one below, NumPy's BLAS through the environment). The four systems take turns
in rotating order (``--turns`` turns of ``--block`` steps each), after a ``gc.collect()`` that is not
timed; reported are the median time per step, the speed against PyTorch in the same precision (its time
per step over the system's), and the largest relative difference between each system's losses and
PyTorch float64's over every step it took.

Installs nothing; needs ``pip install torch==2.13.0``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from pathlib import Path

# One thread for everyone: PyTorch is set to one below, and NumPy's BLAS must not spin up threads
# that fight over a shared machine's cores (set before NumPy is imported).
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from chainrule.data import names_dataset  # noqa: E402
from chainrule.losses import cross_entropy  # noqa: E402
from chainrule.makemore import BATCH_SIZE, LR, names_model  # noqa: E402
from chainrule.optim import SGD  # noqa: E402


class Chainrule:
    def __init__(self, dtype, weights, X, Y):
        self.name = f"chainrule {np.dtype(dtype).name}"
        self.model = names_model(seed=0, dtype=dtype)
        for p, w in zip(self.model.parameters(), weights):
            p.data = w.astype(dtype)
        self.optimizer = SGD(self.model.parameters(), lr=LR)
        self.X, self.Y = X, Y

    def step(self, rows) -> float:
        loss = cross_entropy(self.model(self.X[rows]), self.Y[rows])
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


class Torch:
    def __init__(self, dtype, weights, X, Y):
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.name = f"PyTorch {np.dtype(dtype).name}"
        tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
        emb, hidden, gain, bias, out_w, out_b = weights
        self.model = torch.nn.Sequential(
            torch.nn.Embedding(*emb.shape),
            torch.nn.Flatten(),
            torch.nn.Linear(*hidden.shape, bias=False),
            torch.nn.BatchNorm1d(hidden.shape[1], momentum=0.001),
            torch.nn.Tanh(),
            torch.nn.Linear(*out_w.shape),
        ).to(tdtype)
        with torch.no_grad():  # a chainrule Linear holds (nin, nout), a torch one (nout, nin)
            for p, w in zip(self.model.parameters(), (emb, hidden.T, gain, bias, out_w.T, out_b)):
                p.copy_(torch.tensor(np.ascontiguousarray(w), dtype=tdtype))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LR)
        self.X, self.Y = torch.tensor(X), torch.tensor(Y)

    def step(self, rows) -> float:
        rows = self.torch.from_numpy(rows)
        loss = self.torch.nn.functional.cross_entropy(self.model(self.X[rows]), self.Y[rows])
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        return loss.item()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=15, help="timed turns per system (default 15)")
    parser.add_argument("--block", type=int, default=200, help="steps per turn (default 200)")
    parser.add_argument("--quick", action="store_true", help="2 turns of 5 steps (CI)")
    args = parser.parse_args(argv)
    turns, block = (2, 5) if args.quick else (args.turns, args.block)

    import torch

    data = names_dataset()
    X, Y = data.train
    weights = [p.data.copy() for p in names_model(seed=0).parameters()]
    systems = [make(dtype, weights, X, Y) for make in (Chainrule, Torch) for dtype in (np.float64, np.float32)]
    # every system's batches: the same rows, drawn once
    batches = np.random.default_rng(0).integers(0, len(X), size=(turns * block, BATCH_SIZE))
    seconds = {s.name: [] for s in systems}
    losses = {s.name: [] for s in systems}
    for turn in range(turns):
        for s in systems[turn % len(systems) :] + systems[: turn % len(systems)]:
            gc.collect()
            start = time.perf_counter()
            taken = [s.step(rows) for rows in batches[turn * block : (turn + 1) * block]]
            seconds[s.name].append((time.perf_counter() - start) / block)
            losses[s.name].extend(taken)

    reference = np.array(losses["PyTorch float64"])
    print(
        f"makemore step (batch {BATCH_SIZE}), {turns} turns x {block} steps, one thread; "
        f"Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}, "
        f"{platform.machine()}"
    )
    print("| system | median ms / step | speed vs PyTorch (same dtype) | largest loss difference vs PyTorch float64 |")
    print("|---|---:|---:|---:|")
    for s in systems:
        median = statistics.median(seconds[s.name])
        dtype = s.name.split()[-1]
        theirs = statistics.median(seconds[f"PyTorch {dtype}"])
        ours = np.array(losses[s.name])
        difference = float(np.max(np.abs(ours - reference) / np.abs(reference)))
        print(f"| {s.name} | {median * 1e3:.3f} | {theirs / median:.2f}x faster | {difference:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
