"""Models to files and back: ``chainrule.save``, ``chainrule.load``, ``chainrule.load_state_dict``.

The file is a plain safetensors file: the ``safetensors`` package alone reads it (NumPy or torch), with the
same names, shapes, dtypes and numbers as ``model.state_dict()``. A model loaded in a fresh process computes
bit for bit what the saved one did. Loading never unpickles anything (a pickle that would create a marker
is refused, and the marker never appears), damaged files say so by name, and an interrupted save leaves the
previous file untouched.
"""

from __future__ import annotations

import json
import os
import pickle
import random
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from dependencies import require
from oracle import assert_close

import chainrule
from chainrule import Tensor, serialization
from chainrule.nn import MLP, Identity, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from chainrule.serialization import ModelFileError, read_metadata

ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))


@pytest.fixture(scope="module", autouse=True)
def safetensors():
    return require("safetensors", "pip install 'chainrule[save]'")


class Net(Module):
    """A model class of one's own: saved as its state_dict, rebuilt by its owner."""

    def __init__(self, hidden: int = 8, nout: int = 3, seed: int = 0):
        self.fc1 = Linear(4, hidden, rng=seed)
        self.fc2 = Linear(hidden, nout, rng=seed + 1)

    def forward(self, x):
        return self.fc2(self.fc1(x).relu())


class RunsCodeWhenUnpickled:
    """A pickle payload that creates the folder ``marker`` when unpickled: proof that something unpickled it."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def demo_mlp(seed: int = 1) -> MLP:
    return MLP(2, [16, 16, 1], activation="relu", output_activation="linear", rng=seed)


def tensor_model(dtype=np.float64) -> Sequential:
    return Sequential(
        Linear(3, 16, rng=1, dtype=dtype),
        Tanh(),
        Linear(16, 8, rng=2, dtype=dtype),
        ReLU(),
        Linear(8, 2, rng=3, dtype=dtype),
    )


def points(n: int, nin: int, dtype=np.float64) -> np.ndarray:
    return np.random.default_rng(7).standard_normal((n, nin)).astype(dtype)


def outputs(model, X: np.ndarray) -> np.ndarray:
    """What the model computes for each row of X: a Tensor model on the batch, the notes' MLP row by row."""
    if isinstance(model, MLP):
        results = [model(row) for row in X.tolist()]  # a Value, or a list of them for several outputs
        return np.array([[v.data for v in r] if isinstance(r, list) else r.data for r in results])
    return model(X).data  # an array: the first Linear takes it in its own dtype


def nin_of(model) -> int:
    if isinstance(model, MLP):
        return len(model.layers[0].neurons[0].w)
    return next((m.nin for m in model.modules() if isinstance(m, Linear)), 4)


def architecture(path) -> dict:
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        return json.loads(handle.metadata()["chainrule.architecture"])


# -- round trips ----------------------------------------------------------------------------------------
LOAD_IN_A_FRESH_PROCESS = textwrap.dedent(
    """
    import sys
    import numpy as np
    import chainrule
    from chainrule.nn import MLP

    model = chainrule.load(sys.argv[1])
    X = np.random.default_rng(7).standard_normal((int(sys.argv[2]), int(sys.argv[3]))).astype(sys.argv[4])
    if isinstance(model, MLP):
        out = np.array([model(row).data for row in X.tolist()])
    else:
        out = model(X).data
    print(type(model).__name__, out.dtype, out.tobytes().hex())
    """
)


@pytest.mark.parametrize(
    "make, nin, dtype",
    [(demo_mlp, 2, np.float64), (tensor_model, 3, np.float64), (lambda: tensor_model(np.float32), 3, np.float32)],
    ids=["scalar MLP", "Sequential float64", "Sequential float32"],
)
def test_a_model_loaded_in_a_fresh_process_computes_bit_for_bit_the_same(tmp_path, make, nin, dtype):
    model = make()
    path = chainrule.save(model, tmp_path / "model.safetensors")
    expected = outputs(model, points(50, nin, dtype))
    result = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_FRESH_PROCESS, str(path), "50", str(nin), np.dtype(dtype).name],
        capture_output=True,
        text=True,
        env=ENV,
    )
    assert result.returncode == 0, result.stderr
    name, out_dtype, hex_bytes = result.stdout.split()
    assert (name, out_dtype) == (type(model).__name__, expected.dtype.name)
    assert hex_bytes == expected.tobytes().hex()  # every bit of every output


def test_the_file_opens_with_safetensors_alone_and_holds_the_state_dict(tmp_path):
    # A fresh process where importing chainrule fails: only the safetensors package reads the file.
    model = Sequential(Linear(3, 4, rng=0, dtype=np.float32), Tanh(), Linear(4, 1, rng=1))
    path = chainrule.save(model, tmp_path / "model.safetensors")
    code = textwrap.dedent(
        """
        import json, sys

        class NoChainrule:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "chainrule":
                    raise ImportError("chainrule is blocked in this test")

        sys.meta_path.insert(0, NoChainrule())
        from safetensors.numpy import load_file

        arrays = load_file(sys.argv[1])
        print(json.dumps({k: [a.dtype.name, list(a.shape), a.tobytes().hex()] for k, a in arrays.items()}))
        """
    )
    result = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    expected = {k: [a.dtype.name, list(a.shape), a.tobytes().hex()] for k, a in model.state_dict().items()}
    assert json.loads(result.stdout) == expected
    assert expected["0.weight"][0] == "float32" and expected["2.weight"][0] == "float64"


def test_values_are_0d_tensors_under_their_state_dict_names(tmp_path, safetensors):
    import safetensors.numpy

    model = MLP(3, [4, 2], rng=0)
    path = chainrule.save(model, tmp_path / "mlp.safetensors")
    arrays = safetensors.numpy.load_file(str(path))
    state = model.state_dict()
    assert sorted(arrays) == sorted(state) and len(state) == 26  # (3+1)*4 + (4+1)*2
    assert "layers.1.neurons.0.w.3" in arrays and "layers.0.neurons.2.b" in arrays
    for name, array in arrays.items():
        assert array.shape == () and array.dtype == np.float64, name
        assert array.item() == state[name].item(), name


def test_pytorch_reads_the_file_and_computes_the_same_outputs(tmp_path, torch, safetensors):
    import safetensors.torch

    model = tensor_model()
    path = chainrule.save(model, tmp_path / "model.safetensors")
    weights = safetensors.torch.load_file(str(path))
    state = model.state_dict()
    assert sorted(weights) == sorted(state)
    for name, tensor in weights.items():
        assert tensor.dtype == torch.float64 and tuple(tensor.shape) == state[name].shape, name
        assert np.array_equal(tensor.numpy(), state[name]), name
    # The same network in torch from the file's weights (torch keeps a Linear's weight as (out, in)).
    X = points(20, 3)
    t = torch.tensor(X)
    for i, activation in [(0, torch.tanh), (2, torch.relu), (4, None)]:
        t = torch.nn.functional.linear(t, weights[f"{i}.weight"].T, weights[f"{i}.bias"])
        t = activation(t) if activation else t
    assert_close(outputs(chainrule.load(path), X), t, rtol=1e-12, atol=1e-14, what="loaded model vs torch")

    # The notes' MLP: torch reads 0-d tensors.
    mlp = MLP(2, [3, 1], rng=4)
    path = chainrule.save(mlp, tmp_path / "mlp.safetensors")
    weights = safetensors.torch.load_file(str(path))
    assert {tuple(t.shape) for t in weights.values()} == {()}
    assert {k: t.item() for k, t in weights.items()} == {k: a.item() for k, a in mlp.state_dict().items()}


def test_the_header_says_what_the_file_is(tmp_path, safetensors):
    from safetensors import safe_open

    path = chainrule.save(tensor_model(), tmp_path / "model.safetensors", metadata={"run": 3})
    with safe_open(str(path), framework="numpy") as handle:
        header = handle.metadata()
    assert header["format"] == "chainrule"
    assert header["chainrule.format_version"] == "1"
    assert header["chainrule.version"] == chainrule.__version__
    assert json.loads(header["chainrule.metadata"]) == {"run": 3}
    assert serialization.read_architecture(path) == json.loads(header["chainrule.architecture"])
    assert json.loads(header["chainrule.architecture"]) == {
        "type": "Sequential",
        "layers": [
            {"type": "Linear", "nin": 3, "nout": 16, "bias": True, "dtype": "float64"},
            {"type": "Tanh"},
            {"type": "Linear", "nin": 16, "nout": 8, "bias": True, "dtype": "float64"},
            {"type": "ReLU"},
            {"type": "Linear", "nin": 8, "nout": 2, "bias": True, "dtype": "float64"},
        ],
    }


@pytest.mark.parametrize(
    "model",
    [
        MLP(3, [4, 4, 1], rng=0),  # the notes' network, tanh throughout
        MLP(2, [5, 3, 2], activation="sigmoid", output_activation="tanh", rng=1),
        Linear(5, 3, rng=2),
        Linear(5, 3, bias=False, rng=3, dtype=np.float32),
        Sequential(Linear(4, 6, rng=4), Sigmoid(), Sequential(Linear(6, 6, rng=5), Identity()), Linear(6, 2, rng=6)),
        Sequential(ReLU(), Tanh(), Sigmoid(), Identity()),  # no parameters at all
    ],
    ids=repr,
)
def test_the_built_in_models_are_rebuilt_with_the_same_layers_and_numbers(tmp_path, model):
    path = chainrule.save(model, tmp_path / "model.safetensors")
    loaded = chainrule.load(path)
    assert type(loaded) is type(model) and repr(loaded) == repr(model)
    assert [type(m) for m in loaded.modules()] == [type(m) for m in model.modules()]
    state, loaded_state = model.state_dict(), loaded.state_dict()
    assert list(loaded_state) == list(state)
    for name in state:
        assert loaded_state[name].dtype == state[name].dtype, name
        assert loaded_state[name].tobytes() == state[name].tobytes(), name
    dtypes = {a.dtype for a in state.values()}
    X = points(10, nin_of(model), np.float32 if np.float32 in dtypes else np.float64)
    assert outputs(loaded, X).tobytes() == outputs(model, X).tobytes()


def test_each_layers_activation_is_rebuilt(tmp_path):
    model = MLP(2, [3, 3, 3, 1], rng=0)
    for layer, activation in zip(model.layers, ["relu", "sigmoid", "linear", "tanh"]):
        for neuron in layer.neurons:
            neuron.activation = activation
    loaded = chainrule.load(chainrule.save(model, tmp_path / "mlp.safetensors"))
    assert [[n.activation for n in layer.neurons] for layer in loaded.layers] == [
        ["relu"] * 3,
        ["sigmoid"] * 3,
        ["linear"] * 3,
        ["tanh"],
    ]
    assert loaded([0.3, -2.0]).data == model([0.3, -2.0]).data


def test_float32_stays_float32(tmp_path, safetensors):
    import safetensors.numpy

    model = tensor_model(np.float32)
    path = chainrule.save(model, tmp_path / "model.safetensors")
    assert {a.dtype for a in safetensors.numpy.load_file(str(path)).values()} == {np.dtype(np.float32)}
    loaded = chainrule.load(path)
    assert {p.dtype for p in loaded.parameters()} == {np.dtype(np.float32)}
    X = points(8, 3, np.float32)
    out = outputs(loaded, X)
    assert out.dtype == np.float32 and out.tobytes() == outputs(model, X).tobytes()


def test_a_layer_used_twice_is_rebuilt_as_one_shared_layer(tmp_path):
    shared = Linear(4, 4, rng=0)
    inner = Sequential(Linear(4, 4, rng=1), shared)  # the same layer again, one level down
    model = Sequential(shared, Tanh(), shared, inner)
    path = chainrule.save(model, tmp_path / "model.safetensors")
    assert architecture(path)["layers"][2] == {"same_as": "0"}
    assert architecture(path)["layers"][3]["layers"][1] == {"same_as": "0"}

    loaded = chainrule.load(path)
    assert loaded[0] is loaded[2] is loaded[3][1] and loaded[3][0] is not loaded[0]
    assert len(loaded.parameters()) == len(model.parameters()) == 4
    X = points(5, 4)
    assert outputs(loaded, X).tobytes() == outputs(model, X).tobytes()
    # Still one layer: a change to it is seen at every place it is used, as in the saved model.
    loaded[2].weight.data = loaded[2].weight.data * 2
    assert np.array_equal(loaded[0].weight.data, loaded[3][1].weight.data)


def test_a_loaded_model_keeps_training_exactly_like_the_saved_one(tmp_path):
    from chainrule.losses import mse
    from chainrule.optim import Adam

    model = tensor_model()
    loaded = chainrule.load(chainrule.save(model, tmp_path / "model.safetensors"))
    X, y = points(16, 3), np.random.default_rng(1).standard_normal((16, 2))
    for net in (model, loaded):
        optimizer = Adam(net.parameters(), lr=1e-2)
        for _ in range(3):
            loss = mse(net(Tensor(X)), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for a, b in zip(model.parameters(), loaded.parameters()):
        assert a.data.tobytes() == b.data.tobytes()


def test_loading_leaves_the_global_random_generators_alone(tmp_path):
    paths = [chainrule.save(demo_mlp(), tmp_path / "mlp.safetensors"), chainrule.save(tensor_model(), tmp_path / "t")]
    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), np.random.random())
    random.seed(5)
    np.random.seed(5)
    for path in paths:
        chainrule.load(path)
    assert (random.random(), np.random.random()) == expected


def test_a_transposed_weight_is_saved_in_its_right_order(tmp_path, safetensors):
    # safetensors copies an array's memory as it lies: a Fortran-ordered weight must be reordered first.
    import safetensors.numpy

    model = Linear(3, 5, rng=0)
    model.weight.data = np.asfortranarray(model.weight.data)
    assert not model.weight.data.flags.c_contiguous
    path = chainrule.save(model, tmp_path / "model.safetensors")
    assert np.array_equal(safetensors.numpy.load_file(str(path))["weight"], model.weight.data)
    assert np.array_equal(chainrule.load(path).weight.data, model.weight.data)


# -- models of one's own --------------------------------------------------------------------------------
def test_a_custom_model_is_saved_and_loaded_into_a_model_its_owner_builds(tmp_path):
    net = Net()
    path = chainrule.save(net, tmp_path / "net.safetensors")
    assert architecture(path) == {"type": "custom", "class": f"{__name__}.Net"}
    with pytest.raises(ModelFileError) as error:
        chainrule.load(path)
    message = str(error.value)
    assert str(path) in message and "Net" in message
    assert f"model.load_state_dict(chainrule.load_state_dict({str(path)!r}))" in message

    fresh = Net(seed=9)
    assert not np.array_equal(fresh.fc1.weight.data, net.fc1.weight.data)
    fresh.load_state_dict(chainrule.load_state_dict(path))
    X = points(6, 4)
    assert fresh(Tensor(X)).data.tobytes() == net(Tensor(X)).data.tobytes()


@pytest.mark.parametrize(
    "make, what",
    [
        (
            lambda: Sequential(Linear(4, 8, rng=0), Net(hidden=4)),
            f"a chainrule.nn.layers.Sequential containing a {__name__}.Net (at '1')",
        ),
        (
            lambda: type("MyMLP", (MLP,), {})(2, [3, 1], rng=0),
            f"a {__name__}.MyMLP,",
        ),  # a subclass may compute otherwise
    ],
    ids=["Sequential holding a Net", "MLP subclass"],
)
def test_a_built_in_model_holding_or_extending_a_custom_class_is_custom(tmp_path, make, what):
    path = chainrule.save(make(), tmp_path / "model.safetensors")
    assert architecture(path)["type"] == "custom"
    with pytest.raises(ModelFileError) as error:
        chainrule.load(path)
    assert what in str(error.value) and "build the model, then call" in str(error.value)


def test_loading_a_file_into_a_model_of_another_shape_changes_nothing(tmp_path):
    path = chainrule.save(Net(hidden=8, nout=3), tmp_path / "net.safetensors")
    other = Net(hidden=8, nout=2, seed=5)  # fc1 fits, fc2 does not
    before = {k: a.copy() for k, a in other.state_dict().items()}
    with pytest.raises(ValueError) as error:
        other.load_state_dict(chainrule.load_state_dict(path))
    assert "'fc2.weight' has shape (8, 3)" in str(error.value) and "'fc2.bias'" in str(error.value)
    after = other.state_dict()
    assert all(np.array_equal(after[k], before[k]) for k in before)  # fc1 too: all or nothing


def test_a_plain_safetensors_file_gives_its_arrays_but_is_not_a_model(tmp_path, torch, safetensors):
    # Written by PyTorch: load_state_dict reads any safetensors file; load wants chainrule's record.
    import safetensors.torch

    layer = torch.nn.Linear(3, 2)
    path = tmp_path / "torch.safetensors"
    safetensors.torch.save_file(layer.state_dict(), str(path))
    arrays = chainrule.load_state_dict(path)
    assert np.array_equal(arrays["weight"], layer.weight.detach().numpy())
    mine = Linear(3, 2)
    mine.load_state_dict({"weight": arrays["weight"].T, "bias": arrays["bias"]})
    X = points(4, 3)
    assert_close(mine(X).data, layer(torch.tensor(X)), rtol=1e-12, what="torch's weights in a chainrule Linear")
    with pytest.raises(ModelFileError, match="not a chainrule model file"):
        chainrule.load(path)
    assert read_metadata(path) == {}


# -- what save refuses ---------------------------------------------------------------------------------
def test_an_mlp_layer_mixing_activations_is_refused(tmp_path):
    model = MLP(2, [3, 1], rng=0)
    model.layers[0].neurons[1].activation = "relu"
    with pytest.raises(ValueError, match=r"layer 0 of the MLP mixes activations \(relu, tanh\)"):
        chainrule.save(model, tmp_path / "mlp.safetensors")
    assert list(tmp_path.iterdir()) == []


def test_a_weight_shared_by_two_different_layers_is_refused(tmp_path):
    first, second = Linear(3, 3, rng=0), Linear(3, 3, rng=1)
    second.weight = first.weight  # tied weights: two layers, one tensor; no layer record can say so
    with pytest.raises(ValueError, match="the rebuilt model has '2.weight', which this one lacks"):
        chainrule.save(Sequential(first, Tanh(), second), tmp_path / "model.safetensors")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "metadata, message",
    [
        ({"s": {1, 2}}, "plain JSON"),
        ({"x": float("nan")}, "plain JSON"),
        ({1: "one"}, "keys must be strings"),
        ({"t": (1, 2)}, "lists, not tuples"),
        ("task=digits", "must be a dict"),
    ],
)
def test_metadata_that_would_not_read_back_is_refused(tmp_path, metadata, message):
    with pytest.raises(TypeError, match=message):
        chainrule.save(tensor_model(), tmp_path / "model.safetensors", metadata=metadata)
    assert list(tmp_path.iterdir()) == []


def test_save_says_what_is_wrong_with_the_path_or_the_model(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a folder; give a file name"):
        chainrule.save(tensor_model(), tmp_path)
    with pytest.raises(FileNotFoundError, match=f"the folder {tmp_path / 'no'} does not exist"):
        chainrule.save(tensor_model(), tmp_path / "no" / "model.safetensors")
    with pytest.raises(TypeError, match="expected a model"):
        chainrule.save({"w": np.zeros(3)}, tmp_path / "model.safetensors")


# -- metadata ---------------------------------------------------------------------------------------
def test_metadata_round_trips(tmp_path):
    metadata = {
        "task": {"dataset": "digits", "seed": 0, "test_size": 0.2},
        "reported": {"test accuracy": 0.975},
        "note": "ünïcode ✓",
        "list": [1, 2.5, None, True, "x"],
    }
    path = chainrule.save(tensor_model(), tmp_path / "model.safetensors", metadata=metadata)
    assert read_metadata(path) == metadata
    assert chainrule.load(path) is not None  # metadata does not get in the way of loading
    assert read_metadata(chainrule.save(tensor_model(), tmp_path / "bare.safetensors")) == {}


# -- pickles are never opened ---------------------------------------------------------------------------
def _pickle_files(torch, tmp_path, marker):
    payload = RunsCodeWhenUnpickled(marker)
    files = {
        "pickle.dumps": pickle.dumps(payload),
        "pickle protocol 0": pickle.dumps(payload, protocol=0),
    }
    torch.save(payload, tmp_path / "zip.pt")
    torch.save(payload, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    files["torch.save"] = (tmp_path / "zip.pt").read_bytes()
    files["torch.save, legacy"] = (tmp_path / "legacy.pt").read_bytes()
    return files


@pytest.mark.parametrize("kind", ["pickle.dumps", "pickle protocol 0", "torch.save", "torch.save, legacy"])
def test_a_pickle_named_safetensors_is_refused_without_being_unpickled(tmp_path, torch, monkeypatch, kind):
    marker = tmp_path / "the pickle ran"
    data = _pickle_files(torch, tmp_path, marker)[kind]
    path = tmp_path / "model.safetensors"
    path.write_bytes(data)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("something tried to unpickle the file")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, no_unpickling)
    monkeypatch.setattr(torch, "load", no_unpickling)
    for read in (chainrule.load, chainrule.load_state_dict, read_metadata):
        with pytest.raises(ModelFileError) as error:
            read(path)
        message = str(error.value)
        assert str(path) in message and "not a safetensors file" in message
        if kind != "pickle protocol 0":  # protocol 0 is text, with no signature to recognise it by
            assert ("pickle" if "legacy" in kind or kind == "pickle.dumps" else "zip") in message
            assert "never unpickles" in message
    monkeypatch.undo()
    assert not marker.exists()

    # The payload is live: unpickled, it does create the marker (so the check above can fail). torch.load
    # reads a .safetensors name with safetensors itself, so the control reads torch's files as .pt.
    if kind.startswith("torch"):
        torch.load(tmp_path / ("legacy.pt" if "legacy" in kind else "zip.pt"), weights_only=False)
    else:
        pickle.loads(data)
    assert marker.exists()


# -- damaged files ----------------------------------------------------------------------------------
LINEAR_1_3 = {"type": "Linear", "nin": 1, "nout": 3, "bias": False, "dtype": "float64"}


def _good_file(tmp_path) -> bytes:
    return chainrule.save(tensor_model(), tmp_path / "good.safetensors").read_bytes()


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda good: b"", "the file is empty"),
        (lambda good: good[:5], "truncated"),  # inside the 8-byte header length
        (lambda good: good[:40], "truncated"),  # inside the JSON header
        (lambda good: good[:-7], "the file is truncated"),  # inside the numbers
        (lambda good: b"this is not a model, just some text\n" * 20, "its first bytes are not a safetensors header"),
        (lambda good: (10).to_bytes(8, "little") + b"{not json}", "header is not a JSON object"),
        (lambda good: (3).to_bytes(8, "little") + b"[1]", "its first bytes are not a safetensors header"),
        (lambda good: b"\x93NUMPY" + good, "NumPy .npy file"),
        (
            # a well-formed header whose tensor does not fit its byte range
            lambda good: _raw_file(
                {
                    "__metadata__": {"chainrule.architecture": json.dumps(LINEAR_1_3)},
                    "weight": {"dtype": "F64", "shape": [1, 3], "data_offsets": [0, 16]},
                },
                b"\0" * 16,
            ),
            "not a valid safetensors file",
        ),
        (
            lambda good: _raw_file({"__metadata__": {"chainrule.architecture": 3}}, b""),
            "metadata is not a map of strings",
        ),
    ],
    ids=[
        "empty",
        "cut in length",
        "cut in header",
        "cut in data",
        "text",
        "bad json",
        "json array",
        "npy",
        "bad tensor",
        "bad metadata",
    ],
)
def test_a_damaged_file_says_so_and_names_itself(tmp_path, make, message):
    path = tmp_path / "model.safetensors"
    path.write_bytes(make(_good_file(tmp_path)))
    for read in (chainrule.load, chainrule.load_state_dict, read_metadata):
        if read is read_metadata and message == "not a valid safetensors file":
            continue  # the header alone is fine: only reading the numbers finds the fault
        with pytest.raises(ModelFileError) as error:
            read(path)
        assert str(path) in str(error.value) and message in str(error.value)


def _raw_file(header: dict, data: bytes) -> bytes:
    text = json.dumps(header).encode()
    return len(text).to_bytes(8, "little") + text + data


def test_missing_files_and_folders_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=f"{tmp_path / 'gone.safetensors'}: no such file"):
        chainrule.load(tmp_path / "gone.safetensors")
    with pytest.raises(ModelFileError, match=f"{tmp_path}: is a folder, not a model file"):
        chainrule.load(tmp_path)


def test_every_byte_of_a_damaged_header_gives_a_model_file_error_or_a_model(tmp_path):
    # Each byte of the header in turn overwritten: the loader either still reads a model (a digit of a
    # number changed, say) or says the file is damaged; never another exception, never a hang.
    good = chainrule.save(Linear(2, 1, rng=0), tmp_path / "good.safetensors").read_bytes()
    header_end = 8 + int.from_bytes(good[:8], "little")
    path = tmp_path / "damaged.safetensors"
    outcomes = {"model": 0, "error": 0}
    for i in range(header_end):
        for byte in (0x00, 0x7B, ord("9")):
            if good[i] == byte:
                continue
            path.write_bytes(good[:i] + bytes([byte]) + good[i + 1 :])
            try:
                chainrule.load(path)
                outcomes["model"] += 1
            except ModelFileError as error:
                assert str(path) in str(error)
                outcomes["error"] += 1
    assert outcomes["error"] > 0 and outcomes["model"] > 0, outcomes


def test_a_record_that_asks_for_an_enormous_model_is_refused_before_it_is_built(tmp_path):
    # An edited record cannot make load allocate 10**18 numbers: it must agree with what the file holds.
    good = chainrule.save(Linear(2, 3, rng=0), tmp_path / "good.safetensors")
    arrays = chainrule.load_state_dict(good)
    for record, message in [
        ({"type": "Linear", "nin": 10**9, "nout": 10**9, "bias": True, "dtype": "float64"}, "describes"),
        ({"type": "Linear", "nin": 3, "nout": 2, "bias": True, "dtype": "float64"}, "describes 8 numbers"),
        # as many numbers as the file holds (9), in other shapes and names
        ({"type": "Linear", "nin": 3, "nout": 3, "bias": False, "dtype": "float64"}, "do not fit"),
        ({"type": "os.system", "args": ["rm -rf /"]}, "unknown layer type 'os.system'"),
        ({"type": "Linear", "nin": 2, "nout": 3, "bias": True, "dtype": "object"}, "dtype must be one of"),
    ]:
        path = tmp_path / "edited.safetensors"
        serialization._safetensors_numpy().save_file(
            arrays, str(path), metadata={"format": "chainrule", "chainrule.architecture": json.dumps(record)}
        )
        with pytest.raises(ModelFileError, match=message):
            chainrule.load(path)


def test_a_file_from_a_newer_chainrule_says_to_upgrade(tmp_path):
    arrays = chainrule.load_state_dict(chainrule.save(Linear(2, 3, rng=0), tmp_path / "good.safetensors"))
    path = tmp_path / "future.safetensors"
    serialization._safetensors_numpy().save_file(
        arrays,
        str(path),
        metadata={"chainrule.format_version": "2", "chainrule.architecture": json.dumps({"type": "Linear"})},
    )
    with pytest.raises(ModelFileError, match="upgrade chainrule"):
        chainrule.load(path)


# -- atomic saving --------------------------------------------------------------------------------------
@pytest.mark.parametrize("crash", [OSError("No space left on device"), KeyboardInterrupt()])
def test_a_save_that_fails_midway_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, crash):
    path = chainrule.save(demo_mlp(1), tmp_path / "model.safetensors")
    before = path.read_bytes()
    written = []

    def write_half_then_crash(handle, data):
        handle.write(data[: len(data) // 2])
        handle.flush()
        written.append(len(data) // 2)
        raise crash

    monkeypatch.setattr(serialization.files, "_write_all", write_half_then_crash)  # where _write_atomically finds it
    with pytest.raises(type(crash)):
        chainrule.save(demo_mlp(2), path)
    assert written and written[0] > 0  # the crash did happen mid-file
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]
    assert chainrule.load(path).state_dict().keys() == demo_mlp(1).state_dict().keys()

    # With no earlier file, nothing at all is left.
    with pytest.raises(type(crash)):
        chainrule.save(demo_mlp(2), tmp_path / "new.safetensors")
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_the_file_reaches_the_disk_before_it_replaces_the_old_one(tmp_path, monkeypatch):
    path = chainrule.save(demo_mlp(1), tmp_path / "model.safetensors")
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(
            ("fsync", os.path.basename(os.readlink(f"/proc/self/fd/{fd}")) if os.path.exists("/proc") else fd)
        )
        return real_fsync(fd)

    def replace(source, target):
        events.append(("replace", os.path.basename(source), os.path.basename(target)))
        return real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    chainrule.save(demo_mlp(2), path)
    monkeypatch.undo()
    kinds = [event[0] for event in events]
    assert kinds[:2] == ["fsync", "replace"], events
    temporary = events[1][1]
    assert temporary.startswith(".model.safetensors.") and temporary.endswith(".tmp")
    assert events[1][2] == "model.safetensors"
    if os.path.exists("/proc"):
        assert events[0][1] == temporary  # the temporary file itself was flushed to disk
    assert np.array_equal(
        chainrule.load(path).layers[0].neurons[0].w[0].data, demo_mlp(2).layers[0].neurons[0].w[0].data
    )


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_saved_file_has_the_permissions_of_an_ordinary_file(tmp_path):
    old = os.umask(0o022)
    try:
        path = chainrule.save(Linear(2, 2), tmp_path / "model.safetensors")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644  # not the 0o600 of a tempfile


# -- the dependency ---------------------------------------------------------------------------------
def test_without_safetensors_save_and_load_say_what_to_install(tmp_path, monkeypatch):
    path = chainrule.save(Linear(2, 2), tmp_path / "model.safetensors")
    for name in [m for m in sys.modules if m == "safetensors" or m.startswith("safetensors.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "safetensors", None)
    for call in (lambda: chainrule.save(Linear(2, 2), tmp_path / "other.safetensors"), lambda: chainrule.load(path)):
        with pytest.raises(ImportError, match=r"pip install safetensors \(or pip install 'chainrule\[save\]'\)"):
            call()
    assert not (tmp_path / "other.safetensors").exists()


def test_importing_chainrule_loads_neither_numpy_nor_safetensors():
    code = (
        "import sys, chainrule; chainrule.save, chainrule.load, chainrule.load_state_dict; "
        "import chainrule.serialization; "
        "loaded = [m for m in ('numpy', 'safetensors') if m in sys.modules]; assert not loaded, loaded; "
        "assert {'save', 'load', 'load_state_dict'} <= set(chainrule.__all__); print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_frozen_weight_stays_in_the_state_dict_and_the_file(tmp_path, torch):
    # requires_grad=False freezes a weight (parameters() leaves it out, so no optimizer moves it), but it is
    # still the layer's weight: PyTorch keeps a frozen Parameter in its state_dict, and so must chainrule,
    # or save refuses the model and a load leaves the frozen layer at its random start.
    from chainrule.nn.embedding import Embedding
    from chainrule.nn.norm import BatchNorm1d

    def build(seed):
        return Sequential(
            Embedding(5, 2, rng=seed), Linear(2, 3, rng=seed + 1), BatchNorm1d(3), Tanh(), Linear(3, 2, rng=seed + 2)
        )

    model = build(0)
    model(np.array([1, 4, 0]))  # running statistics that are not the defaults
    for p in (model[0].weight, model[1].weight, model[2].weight, model[2].bias):
        p.requires_grad = False
    twin = torch.nn.Sequential(
        torch.nn.Embedding(5, 2), torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3), torch.nn.Tanh(), torch.nn.Linear(3, 2)
    )
    for p in (twin[0].weight, twin[1].weight, twin[2].weight, twin[2].bias):
        p.requires_grad_(False)
    assert list(model.state_dict()) == list(twin.state_dict())
    assert len(model.parameters()) == 3  # frozen ones are still left out of training

    X = np.array([3, 0, 2, 2])
    loaded = chainrule.load(chainrule.save(model, tmp_path / "frozen.safetensors"))
    fresh = build(7)
    fresh.load_state_dict(model.state_dict())
    for other in (loaded, fresh, model):
        other.eval()
    for other in (loaded, fresh):
        assert outputs(other, X).tobytes() == outputs(model, X).tobytes()
    # Loading into a model whose weight is frozen sets that weight too.
    frozen = build(9)
    frozen[1].weight.requires_grad = False
    frozen.load_state_dict(model.state_dict())
    assert np.array_equal(frozen[1].weight.data, model[1].weight.data)
