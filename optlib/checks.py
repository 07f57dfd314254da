"""Hyperparameter validation, with the messages torch.optim uses, shared by both fronts."""


def _fail(message):
    raise ValueError(message)


def lr(value):
    if hasattr(value, "numel") and value.numel() != 1:
        _fail("Tensor lr must be 1-element")
    if not 0.0 <= value:  # `not <=` also rejects NaN
        _fail(f"Invalid learning rate: {value}")


def nonnegative(value, message):
    """`message` is torch's wording, e.g. 'Invalid epsilon value'."""
    if not 0.0 <= value:
        _fail(f"{message}: {value}")


def betas(value):
    if len(value) != 2:
        _fail(f"Invalid betas: {value} (expected a pair (beta1, beta2))")
    for i, beta in enumerate(value):
        if not 0.0 <= beta < 1.0:
            _fail(f"Invalid beta parameter at index {i}: {beta}")


def betas_are_floats(value):
    """torch's Adam and AdamW (not NAdam, RAdam) insist on two floats or two tensors: betas=(0, 0.999)
    raises there."""
    if not (all(isinstance(b, float) for b in value) or all(hasattr(b, "numel") for b in value)):
        _fail("betas must be either both floats or both Tensors")


def unit_interval(value, message):
    if not 0.0 <= value <= 1.0:
        _fail(f"{message}: {value}")


def positive_int(value, message):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(f"{message}: {value}")


def tensor_lr_with_foreach(h):
    """torch's Adam and AdamW: a tensor lr needs the single-tensor path (or capturable)."""
    if hasattr(h["lr"], "numel") and h["foreach"] and not h["capturable"]:
        _fail("lr as a Tensor is not supported for capturable=False and foreach=True")


def tensor_betas(h):
    """torch's Adam and AdamW, after the other checks: tensor betas are 1-element, single-tensor path."""
    for i, beta in enumerate(h["betas"]):
        if hasattr(beta, "numel"):
            if h["foreach"] and not h["capturable"]:
                _fail(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
            if beta.numel() != 1:
                _fail(f"Tensor betas[{i}] must be 1-element")


def fused_flags(h):
    """torch's checks of `fused` at construction (RuntimeError, as torch raises them)."""
    if h.get("fused"):
        if h.get("differentiable"):
            raise RuntimeError("`fused` does not support `differentiable`")
        if h.get("foreach"):
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")


def not_differentiable(name, h):
    """The torch front's one deliberate difference from torch.optim: no differentiable=True."""
    if h.get("differentiable"):
        raise NotImplementedError(
            f"differentiable=True is not supported by optlib.optim.{name}: optlib's update rules change the "
            "parameters and state in place under torch.no_grad() (the same code runs the numpy demos), so "
            "a step cannot be differentiated through autograd. Use torch.optim." + name + " for that.")
