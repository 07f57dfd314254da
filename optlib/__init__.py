"""optlib: the companion library of optbook.

* ``optlib.SGD``, ``optlib.Adam``, ... : numpy optimizers for 1-D and 2-D demos (``x = opt.step(x, g)``),
  and ``optlib.run(opt, objective, x0, steps)`` for a whole trajectory;
* ``optlib.optim``: the same rules as drop-in ``torch.optim`` optimizers for real training;
* ``optlib.rules``: the update rules themselves, written once, in lecture order.
"""

from . import optim, rules
from .numpy_optim import (SGD, SWATS, AdaBound, Adagrad, Adam, AdamW, Lookahead, NAdam, Optimizer, RAdam,
                          RMSprop, run)

__all__ = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "RAdam", "NAdam", "AdaBound", "SWATS", "Lookahead",
           "Optimizer", "run", "optim", "rules"]
