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
    """torch's Adam and AdamW (not NAdam, RAdam) insist on floats: betas=(0, 0.999) raises there."""
    if not all(isinstance(b, float) for b in value):
        _fail("betas must be either both floats or both Tensors")


def unit_interval(value, message):
    if not 0.0 <= value <= 1.0:
        _fail(f"{message}: {value}")


def positive_int(value, message):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        _fail(f"{message}: {value}")


def single_tensor_path(options):
    """optlib implements torch's single-tensor algorithm only; the math of `foreach` is the same."""
    for name in ("capturable", "differentiable", "fused"):
        if options.get(name):
            _fail(f"{name}=True is not supported by optlib (it implements the single-tensor path)")
