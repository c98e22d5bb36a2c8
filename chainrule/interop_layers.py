"""The makemore lecture's layers across the bridge to PyTorch (``chainrule.interop`` calls these):
``Embedding``, ``BatchNorm1d`` and ``Flatten`` convert both ways, computing the same outputs and gradients.

An ``Embedding`` keeps its layout (row ``i`` is token ``i``'s vector in both); a ``BatchNorm1d`` takes its
``eps``, ``momentum``, ``affine``, its running statistics and batch count, and its training or eval mode.
``Dropout`` is refused in both directions: each library draws its masks from its own generator, so a
converted model would drop different entries while training (for inference, replace it with ``Identity``).
"""

from __future__ import annotations

DROPOUT_HINT = (
    "the two libraries draw dropout masks from different generators, so training would differ; for inference "
    "dropout does nothing: replace it with Identity()"
)


def layer_to_torch(torch, module, dtype, memo: dict):
    """``module`` as its torch twin if it is an Embedding, BatchNorm1d or Flatten; None otherwise.
    Raises TypeError for a parameter type torch does not have."""
    from chainrule.interop import _parameter, _torch_dtype_of
    from chainrule.nn.embedding import Embedding
    from chainrule.nn.layers import Flatten
    from chainrule.nn.norm import BatchNorm1d

    kind = type(module)
    if kind is Flatten:
        return torch.nn.Flatten(module.start_dim, module.end_dim)
    if kind is Embedding:
        dtype = dtype or _torch_dtype_of(torch, module.weight.dtype)
        out = torch.nn.utils.skip_init(torch.nn.Embedding, module.num_embeddings, module.embedding_dim, dtype=dtype)
        out.weight = _parameter(torch, module.weight, dtype, memo)
        return out
    if kind is BatchNorm1d:
        dtype = dtype or _torch_dtype_of(torch, module.running_mean.dtype)
        out = torch.nn.BatchNorm1d(
            module.num_features, eps=module.eps, momentum=module.momentum, affine=module.affine, dtype=dtype
        )
        if module.affine:
            out.weight = _parameter(torch, module.weight, dtype, memo)
            out.bias = _parameter(torch, module.bias, dtype, memo)
        out.running_mean = torch.tensor(module.running_mean.data, dtype=dtype)
        out.running_var = torch.tensor(module.running_var.data, dtype=dtype)
        out.num_batches_tracked = torch.tensor(int(module.num_batches_tracked.data), dtype=torch.long)
        return out.train(module.training)
    return None


def layer_from_torch(torch, module, dtype, memo: dict):
    """The chainrule twin of a torch Embedding, BatchNorm1d or Flatten; None for any other module.
    Raises TypeError for one of them with a setting chainrule does not have (``padding_idx``, ...)."""
    import numpy as np

    from chainrule.interop import _numpy_dtype_of, _tensor_from_torch
    from chainrule.nn.embedding import Embedding
    from chainrule.nn.layers import Flatten
    from chainrule.nn.norm import BatchNorm1d

    kind = type(module)
    if kind is torch.nn.Flatten:
        return Flatten(module.start_dim, module.end_dim)
    if kind is torch.nn.Embedding:
        if module.padding_idx is not None or module.max_norm is not None or module.scale_grad_by_freq:
            raise TypeError(
                "from_torch: cannot convert an Embedding with padding_idx, max_norm or scale_grad_by_freq, "
                "which chainrule's Embedding does not have"
            )
        dtype = dtype or _numpy_dtype_of(torch, module.weight.dtype)
        out = Embedding(module.num_embeddings, module.embedding_dim, rng=0, dtype=dtype)
        out.weight = _tensor_from_torch(module.weight, dtype, out.weight, memo)
        return out
    if kind is torch.nn.BatchNorm1d:
        if not module.track_running_stats:
            raise TypeError("from_torch: cannot convert a BatchNorm1d with track_running_stats=False")
        dtype = dtype or _numpy_dtype_of(torch, module.running_mean.dtype)
        out = BatchNorm1d(
            module.num_features, eps=module.eps, momentum=module.momentum, affine=module.affine, dtype=dtype
        )
        if module.affine:
            out.weight = _tensor_from_torch(module.weight, dtype, out.weight, memo)
            out.bias = _tensor_from_torch(module.bias, dtype, out.bias, memo)
        out.running_mean = module.running_mean.detach().cpu().double().numpy().astype(dtype)
        out.running_var = module.running_var.detach().cpu().double().numpy().astype(dtype)
        # The count stays float64 whatever the dtype, as BatchNorm1d keeps it (float16 stops counting at 2048).
        out.num_batches_tracked = np.asarray(float(module.num_batches_tracked), dtype=np.float64)
        return out.train(module.training)
    return None
