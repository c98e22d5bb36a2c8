"""``Embedding``: a table of learned vectors, one row per token, looked up by integer index.

``emb(X)`` is ``emb.weight[X]``: the Tensor's integer indexing, whose gradient adds up the rows an index
picked, once per time it was picked (a character seen twice in a batch gets both gradients).
"""

from __future__ import annotations

import numpy as np

from chainrule.indices import class_indices
from chainrule.nn.layers import _generator, _parameter_dtype
from chainrule.nn.module import Module, check_size
from chainrule.tensor import Tensor


class Embedding(Module):
    """``num_embeddings`` vectors of length ``embedding_dim``, the rows of ``weight``.

    ``weight`` starts standard normal, N(0, 1), as in PyTorch; ``rng`` (an int seed, a
    ``numpy.random.Generator``, or None for NumPy's global generator) makes it reproducible. ``emb(X)``
    takes integer indices of any shape in ``[0, num_embeddings - 1]`` (an int array, a list, or a Tensor
    holding whole numbers: the rule of ``chainrule.indices.class_indices``) and gives a Tensor of shape
    ``X.shape + (embedding_dim,)``.
    """

    _weight_attributes = ("weight",)  # in state_dict() even when frozen (requires_grad=False)

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None, dtype=np.float64):
        where = "Embedding"
        self.num_embeddings = check_size(num_embeddings, "num_embeddings", where)
        self.embedding_dim = check_size(embedding_dim, "embedding_dim", where)
        dtype = _parameter_dtype(dtype, where)
        gen = _generator(rng, where)
        numbers = gen.standard_normal(size=(self.num_embeddings, self.embedding_dim))
        self.weight = Tensor(numbers, requires_grad=True, dtype=dtype)
        self.weight.label = "weight"

    def forward(self, indices) -> Tensor:
        return self.weight[class_indices(indices, self.num_embeddings, repr(self), what="indices")]

    __call__ = forward

    def __repr__(self) -> str:
        return f"Embedding({self.num_embeddings}, {self.embedding_dim})"
