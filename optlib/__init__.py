"""optlib: the companion library of optbook.

* ``optlib.SGD``, ``optlib.Adam``, ... : numpy optimizers for 1-D and 2-D demos (``x = opt.step(x, g)``),
  and ``optlib.run(opt, objective, x0, steps)`` for a whole trajectory;
* ``optlib.optim``: the same rules as drop-in ``torch.optim`` optimizers for real training;
* ``optlib.rules``: the update rules themselves, written once, in lecture order;
* ``optlib.objectives``, ``optlib.ewa``, ``optlib.schedules``: the functions, averages and learning-rate
  schedules of the demos; ``optlib.data`` and ``optlib.train``: the Fashion-MNIST case-study engine
  (imported on demand, like ``optlib.widgets`` and ``optlib.display``).
"""

from . import averages, objectives, optim, rules, schedules
from .averages import ewa
from .numpy_optim import (SGD, SWATS, AdaBound, Adagrad, Adam, AdamW, Lookahead, NAdam, Optimizer, RAdam,
                          RMSprop, run)

__all__ = ["SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "RAdam", "NAdam", "AdaBound", "SWATS", "Lookahead",
           "Optimizer", "run", "ewa", "optim", "rules", "objectives", "schedules", "averages"]
