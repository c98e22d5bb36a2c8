"""One step of micrograd's moons demo, side by side: chainrule vs micrograd vs PyTorch vs plain NumPy.

    python benchmarks/moons_step.py            # the table in the README
    python benchmarks/moons_step.py --quick    # a tiny run, so CI notices if this script rots

Every system starts from the same weights (micrograd's, drawn with ``random.seed(1337)``) and trains
on the same 100 points: forward, hinge loss + 1e-4 L2, backward, SGD at ``1 - 0.9 k / 100``. Each
system runs in a fresh process of its own that imports only what it uses, and the systems take turns
in rotating order, one at a time (micrograd 7 turns of 3 steps, chainrule's Value engine 15 of 10,
the array systems 60 of 20). A full ``gc.collect()`` before each turn is not timed. micrograd's
graphs are reference cycles that only the cyclic collector frees, so its turns end with a timed
collection, less what a collection with nothing to free costs: it pays for its own garbage. The other
systems' graphs are freed by reference counting as they go. PyTorch is measured twice: as people
write it (``nn.Sequential``, ``torch.optim.SGD``) and on bare tensors with a hand-written update.
Reported: the median time per step, peak memory of one step (tracemalloc), and the largest relative
difference between its loss and micrograd's over all steps.

Installs nothing; needs ``pip install micrograd==0.1.0 torch==2.13.0 scikit-learn``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.metadata
import multiprocessing
import os
import platform
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

# One thread for everyone: PyTorch is set to one below, and NumPy's BLAS must not spin up threads
# that fight over a shared machine's cores (set before NumPy is imported).
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(variable, "1")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone without installing

from chainrule import training  # noqa: E402
from chainrule.data import moons  # noqa: E402

ALPHA = 1e-4
SEED = 1337
DEMO_STEPS = 100  # the demo's schedule: rate 1 - 0.9 k / 100, repeated if a system runs more steps


def rate(k: int) -> float:
    return 1.0 - 0.9 * (k % DEMO_STEPS) / DEMO_STEPS


# -- the systems ------------------------------------------------------------------------------------
# Each is a class with step(k) -> loss of that step (before the update), all starting from the same
# weights: a list of (W, b) arrays per layer, W of shape (nin, nout). `turns` and `block`: how many
# timed turns it takes and how many steps each; `leaves_cycles`: whether its graphs are reference
# cycles, which only Python's cyclic garbage collector can free.


class System:
    turns, block = 60, 20
    leaves_cycles = False


class Micrograd(System):
    name = "micrograd 0.1.0"
    turns, block = 7, 3  # timed turns, and steps per turn: a few seconds each here
    leaves_cycles = True  # every node's _backward closure refers back to the node

    def __init__(self, layers, X, y):
        from micrograd.engine import Value
        from micrograd.nn import MLP

        self.Value = Value
        self.model = MLP(2, [16, 16, 1])
        set_scalar_weights(self.model, layers)
        self.X, self.y = X.tolist(), y.tolist()

    def step(self, k):
        Value, model = self.Value, self.model
        # micrograd's demo.ipynb, as written there
        inputs = [list(map(Value, xrow)) for xrow in self.X]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(self.y, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = ALPHA * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        model.zero_grad()
        total_loss.backward()
        learning_rate = rate(k)
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        return total_loss.data


class ChainruleValue(System):
    name = "chainrule Value"
    turns, block = 15, 10

    def __init__(self, layers, X, y):
        self.model = training.demo_model()
        set_scalar_weights(self.model, layers)
        self.X, self.y = X.tolist(), y.tolist()

    def step(self, k):
        loss, _ = training.demo_step(self.model, self.X, self.y, k % DEMO_STEPS, DEMO_STEPS)
        return loss


class ChainruleTensor(System):
    name = "chainrule Tensor"

    def __init__(self, layers, X, y):
        from chainrule import Tensor

        self.model = training.tensor_demo_model()
        linears = [m for m in self.model if hasattr(m, "weight")]
        for linear, (W, b) in zip(linears, layers):
            linear.weight.data = W.copy()
            linear.bias.data = b.copy()
        self.X, self.y = Tensor(X), y.reshape(-1, 1)

    def step(self, k):
        loss, _ = training.demo_step(self.model, self.X, self.y, k % DEMO_STEPS, DEMO_STEPS)
        return loss


class ChainruleTensorAsWritten(ChainruleTensor):
    """The Tensor engine as users write the step: the loss and the penalty from small operations (no fused
    hinge or sum-of-squares node), and a plain SGD loop over p.data."""

    name = "chainrule Tensor (as users write it)"

    def step(self, k):
        params = self.model.parameters()
        scores = self.model(self.X)
        data_loss = (1 - self.y * scores).relu().mean()
        reg_loss = ALPHA * sum((p * p).sum() for p in params)
        total = data_loss + reg_loss
        self.model.zero_grad()
        total.backward()
        learning_rate = rate(k)
        for p in params:
            p.data -= learning_rate * p.grad
        return total.item()


class Torch(System):
    """PyTorch on plain tensors with a hand-written update: the least overhead PyTorch allows."""

    name = "PyTorch (tensors)"

    def __init__(self, layers, X, y):
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        self.params = []
        for W, b in layers:
            self.params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
        self.X, self.y = torch.tensor(X), torch.tensor(y).reshape(-1, 1)

    def step(self, k):
        torch = self.torch
        W1, b1, W2, b2, W3, b3 = self.params
        h = torch.relu(self.X @ W1 + b1)
        h = torch.relu(h @ W2 + b2)
        scores = h @ W3 + b3
        data_loss = torch.relu(1 - self.y * scores).mean()
        reg_loss = ALPHA * sum((p * p).sum() for p in self.params)
        total = data_loss + reg_loss
        for p in self.params:
            p.grad = None
        total.backward()
        with torch.no_grad():
            for p in self.params:
                p -= rate(k) * p.grad
        return total.item()


class TorchModule(System):
    """PyTorch as people write it: nn.Sequential of nn.Linear, torch.optim.SGD."""

    name = "PyTorch (nn + optim)"

    def __init__(self, layers, X, y):
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        nn = torch.nn
        self.model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 1))
        self.model.double()
        linears = [m for m in self.model if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for linear, (W, b) in zip(linears, layers):
                linear.weight.copy_(torch.tensor(W.T))  # torch keeps (nout, nin)
                linear.bias.copy_(torch.tensor(b))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=1.0)
        self.X, self.y = torch.tensor(X), torch.tensor(y).reshape(-1, 1)

    def step(self, k):
        torch = self.torch
        scores = self.model(self.X)
        data_loss = torch.relu(1 - self.y * scores).mean()
        reg_loss = ALPHA * sum((p * p).sum() for p in self.model.parameters())
        total = data_loss + reg_loss
        self.optimizer.zero_grad()
        total.backward()
        for group in self.optimizer.param_groups:
            group["lr"] = rate(k)
        self.optimizer.step()
        return total.item()


class HandNumpy(System):
    """The floor: the same network's forward and backward written out by hand in NumPy."""

    name = "NumPy by hand"

    def __init__(self, layers, X, y):
        self.params = [a.copy() for W, b in layers for a in (W, b)]
        self.X, self.y = X, y.reshape(-1, 1)

    def step(self, k):
        W1, b1, W2, b2, W3, b3 = self.params
        X, y = self.X, self.y
        z1 = X @ W1 + b1
        h1 = np.maximum(z1, 0.0)
        z2 = h1 @ W2 + b2
        h2 = np.maximum(z2, 0.0)
        scores = h2 @ W3 + b3
        margins = 1.0 - y * scores
        loss = np.maximum(margins, 0.0).mean() + ALPHA * sum(float(np.vdot(p, p)) for p in self.params)
        d_scores = np.where(margins > 0, -y, 0.0) / len(X)
        dW3, db3 = h2.T @ d_scores, d_scores.sum(axis=0)
        d_z2 = (d_scores @ W3.T) * (z2 > 0)
        dW2, db2 = h1.T @ d_z2, d_z2.sum(axis=0)
        d_z1 = (d_z2 @ W2.T) * (z1 > 0)
        dW1, db1 = X.T @ d_z1, d_z1.sum(axis=0)
        for p, g in zip(self.params, (dW1, db1, dW2, db2, dW3, db3)):
            p -= rate(k) * (g + 2.0 * ALPHA * p)
        return float(loss)


SYSTEMS = {
    "micrograd": Micrograd,
    "chainrule-value": ChainruleValue,
    "chainrule-tensor": ChainruleTensor,
    "chainrule-tensor-as-written": ChainruleTensorAsWritten,
    "torch-nn": TorchModule,
    "torch": Torch,
    "numpy": HandNumpy,
}


def set_scalar_weights(model, layers) -> None:
    """Load (W, b) arrays into a scalar MLP (micrograd's or chainrule's): neuron j takes W[:, j], b[j]."""
    for layer, (W, b) in zip(model.layers, layers):
        for j, neuron in enumerate(layer.neurons):
            for i, w in enumerate(neuron.w):
                w.data = float(W[i, j])
            neuron.b.data = float(b[j])


def micrograd_initial_weights():
    """micrograd's own initialization with random.seed(1337), read out as (W, b) arrays."""
    try:
        from micrograd.nn import MLP
    except ImportError:
        # Same shapes and distribution, for runs without micrograd (bias drawn too, unlike micrograd's 0).
        rng = np.random.default_rng(SEED)
        return [(rng.uniform(-1, 1, (a, b)), np.zeros(b)) for a, b in ((2, 16), (16, 16), (16, 1))]
    random.seed(SEED)
    model = MLP(2, [16, 16, 1])
    layers = []
    for layer in model.layers:
        W = np.array([[w.data for w in n.w] for n in layer.neurons], dtype=np.float64).T
        b = np.array([float(n.b.data) for n in layer.neurons], dtype=np.float64)
        layers.append((W, b))
    return layers


# -- measuring --------------------------------------------------------------------------------------
def measure(names, scale: float, n_samples: int):
    """Time every system in rounds: each round, every system that still has turns left takes one.

    Each system lives in a process of its own (started fresh, importing only what it uses), as it
    would for someone using it: no system's objects weigh on another's garbage collector. The
    processes take turns; only one runs at a time.
    """
    X, y = moons(n_samples=n_samples, noise=0.1, seed=SEED)
    layers = micrograd_initial_weights()
    context = multiprocessing.get_context("spawn")
    workers = []
    for name in names:
        ours, theirs = context.Pipe()
        process = context.Process(target=_serve, args=(name, layers, X, y, theirs), daemon=True)
        process.start()
        workers.append((ours.recv(), ours, process))  # (name, turns, block) once it is ready
    try:
        times = {info[0]: [] for info, _, _ in workers}
        losses = {info[0]: [] for info, _, _ in workers}
        rounds = max(max(1, round(info[1] * scale)) for info, _, _ in workers)
        for r in range(rounds):
            # rotate who goes first, so no system always runs on a cold (or warm) machine
            order = workers[r % len(workers) :] + workers[: r % len(workers)]
            for (name, turns, _), connection, _ in order:
                if r < max(1, round(turns * scale)):
                    connection.send("turn")
                    seconds_per_step, turn_losses = connection.recv()
                    times[name].append(seconds_per_step)
                    losses[name].extend(turn_losses)
        peaks = {}
        for (name, _, _), connection, _ in workers:
            connection.send("peak")
            peaks[name] = connection.recv()
    finally:
        for _, connection, process in workers:
            connection.send("stop")
            process.join(timeout=30)
    return [info for info, _, _ in workers], times, losses, peaks


def _serve(name: str, layers, X, y, connection) -> None:
    """A system's process: takes a timed turn, or measures its peak memory, when the parent asks."""
    system = SYSTEMS[name](layers, X, y)
    connection.send((system.name, system.turns, system.block))
    done = []
    while True:
        command = connection.recv()
        if command == "turn":
            first = len(done)
            gc.collect()  # not timed: what the setup left behind is no part of a step
            # A system whose graphs are reference cycles pays for freeing them: its turn ends with a
            # timed full collection, less what a collection with nothing to free costs.
            baseline = _collect_seconds() if system.leaves_cycles else 0.0
            start = time.perf_counter()
            for _ in range(system.block):
                done.append(system.step(len(done)))
            if system.leaves_cycles:
                gc.collect()
            connection.send(((time.perf_counter() - start - baseline) / system.block, done[first:]))
        elif command == "peak":  # peak memory of one more step, measured apart from the timings
            gc.collect()
            tracemalloc.start()
            system.step(len(done))
            connection.send(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        else:
            return


def _collect_seconds() -> float:
    start = time.perf_counter()
    gc.collect()
    return time.perf_counter() - start


def agreement(reference, other) -> float:
    """Largest relative difference over the steps both systems ran."""
    return max(abs(a - b) / max(abs(a), 1e-300) for a, b in zip(reference, other))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--turns", type=float, default=1.0, help="scale the number of timed turns (micrograd 7, Value 15, others 60)"
    )
    parser.add_argument("--samples", type=int, default=100, help="moons points (default 100, as in the demo)")
    parser.add_argument("--systems", default=",".join(SYSTEMS), help="comma-separated: " + ", ".join(SYSTEMS))
    parser.add_argument("--quick", action="store_true", help="a tiny run (for CI): 1 turn each, 20 points")
    args = parser.parse_args(argv)
    if args.quick:
        args.turns, args.samples = 0.01, 20
    names = [n.strip() for n in args.systems.split(",") if n.strip()]
    unknown = [n for n in names if n not in SYSTEMS]
    if unknown:
        parser.error(f"unknown system(s) {unknown}; choose from {list(SYSTEMS)}")

    systems, times, losses, peaks = measure(names, args.turns, args.samples)
    medians = {name: statistics.median(t) for name, t in times.items()}
    reference = Micrograd.name if Micrograd.name in medians else None
    torch_name = TorchModule.name if TorchModule.name in medians else None

    print(
        f"moons demo step: {args.samples} points, MLP(2, [16, 16, 1]), hinge + L2, SGD; median time per step over "
        "timed turns (" + ", ".join(f"{name} {len(times[name])} x {block}" for name, _, block in systems) + " steps)"
    )
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    if any(name.startswith("torch") for name in names):
        versions.append(f"torch {importlib.metadata.version('torch')} (1 thread)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; " + ", ".join(versions))
    print()
    print("| system | ms / step | vs micrograd | vs PyTorch (nn + optim) | peak memory of a step | loss vs micrograd |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, _, _ in systems:
        ms = medians[name] * 1e3
        vs_micrograd = f"{medians[reference] / medians[name]:.1f}x" if reference else "-"
        vs_torch = f"{medians[torch_name] / medians[name]:.2f}x" if torch_name else "-"
        # tracemalloc sees Python's and NumPy's allocations, not PyTorch's own C++ allocator
        memory = "not traced" if name.startswith("PyTorch") else f"{peaks[name] / 1e6:.2f} MB"
        diff = f"{agreement(losses[reference], losses[name]):.1e}" if reference else "-"
        print(f"| {name} | {ms:.3f} | {vs_micrograd} | {vs_torch} | {memory} | {diff} |")
    print()
    print("(speed ratios: how many times faster than that system; loss: largest relative difference per step)")
    if reference and ChainruleValue.name in medians:
        print(
            f"chainrule Value: {medians[reference] / medians[ChainruleValue.name]:.1f}x micrograd's speed, "
            f"{peaks[ChainruleValue.name] / peaks[reference]:.3f} of its peak memory"
        )
    for tensor_system in (ChainruleTensor, ChainruleTensorAsWritten):
        if tensor_system.name not in medians:
            continue
        parts = []
        if HandNumpy.name in medians:
            parts.append(f"{medians[tensor_system.name] / medians[HandNumpy.name]:.2f}x the time of NumPy by hand")
        for torch_system in (TorchModule, Torch):
            if torch_system.name in medians:
                ratio = medians[torch_system.name] / medians[tensor_system.name]
                parts.append(f"{ratio:.2f}x faster than {torch_system.name}")
        print(f"{tensor_system.name}: " + ", ".join(parts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
