"""Disorder-averaged parameter sweeps: sharded over devices, written atomically, resumable.

A run is described by a TOML config (:func:`load_config`), executed by :func:`run_sweep` into a
run directory, and read back by :func:`load_run` (a :class:`SweepResult`). Observables are looked
up by name in a registry that users extend with :func:`register_observable`. Every name here is
also in the flat namespace (``jm.run_sweep`` is ``jm.sweep.run_sweep``).
"""

from jaxmbl.sweep._config import load_config as load_config
from jaxmbl.sweep._registry import register_observable as register_observable
from jaxmbl.sweep._results import SweepResult as SweepResult
from jaxmbl.sweep._results import load_run as load_run
from jaxmbl.sweep._results import plot_run as plot_run
from jaxmbl.sweep._runner import run_sweep as run_sweep

__all__ = ["SweepResult", "load_config", "load_run", "plot_run", "register_observable", "run_sweep"]
