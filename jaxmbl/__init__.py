"""jaxmbl: a differentiable, GPU-ready simulator of many-body localization in JAX.

The model is Swingle's l-bit fixed point H = U H0 U^dagger (arXiv:1307.0507). See
:mod:`jaxmbl._conventions` for the conventions used throughout.
"""

from ._conventions import (
    PAULI as PAULI,
    basis_bits as basis_bits,
    complex_dtype as complex_dtype,
    pauli_string as pauli_string,
)
from ._lattice import Lattice as Lattice, validate_region as validate_region
from ._lbits import (
    LbitHamiltonian as LbitHamiltonian,
    couplings_from_energies as couplings_from_energies,
    lbit_hamiltonian as lbit_hamiltonian,
    reduce_phase as reduce_phase,
    sample_lbit_hamiltonian as sample_lbit_hamiltonian,
)
from ._unitaries import (
    Circuit as Circuit,
    GeneratorUnitary as GeneratorUnitary,
    LocalUnitary as LocalUnitary,
    circuit as circuit,
    generator_unitary as generator_unitary,
    random_circuit as random_circuit,
    random_generator as random_generator,
)
from ._model import (
    SwingleModel as SwingleModel,
    dense_hamiltonian as dense_hamiltonian,
    eigenstates as eigenstates,
    energies as energies,
    load_model as load_model,
    map_realizations as map_realizations,
    realization_keys as realization_keys,
    sample_model as sample_model,
    sample_models as sample_models,
    save_model as save_model,
)
from ._dynamics import evolve as evolve, evolve_exact as evolve_exact
from ._states import basis_state as basis_state, neel_state as neel_state, product_state as product_state

# -- entanglement (exports) --
from ._entanglement import dephased_entropy as dephased_entropy
from ._entanglement import entanglement_spectrum as entanglement_spectrum
from ._entanglement import entropy as entropy
from ._entanglement import mutual_information as mutual_information
from ._entanglement import reduced_density_matrix as reduced_density_matrix
# -- operators (exports) --
from ._models import random_field_heisenberg as random_field_heisenberg
from ._models import random_local_perturbation as random_local_perturbation
from ._operators import PauliSum as PauliSum
from ._operators import sector_basis as sector_basis
# -- exact diagonalization, Krylov, spectra (exports) --
from ._ed import eigh as eigh
from ._ed import eigvalsh as eigvalsh
from ._krylov import krylov_evolve as krylov_evolve
from ._spectra import R_GOE as R_GOE
from ._spectra import R_POISSON as R_POISSON
from ._spectra import density_of_states as density_of_states
from ._spectra import entanglement_vs_energy as entanglement_vs_energy
from ._spectra import level_spacing_ratio as level_spacing_ratio
from ._spectra import mean_ratio as mean_ratio
from ._spectra import spectral_form_factor as spectral_form_factor
# -- perturbed model, stability, variational l-bits --
from ._perturbed import LbitFrameOperator as LbitFrameOperator
from ._perturbed import PerturbedModel as PerturbedModel
from ._perturbed import lbit_frame as lbit_frame
from ._perturbed import perturbed_model as perturbed_model
from ._adiabatic import filter_ft as filter_ft
from ._adiabatic import filter_time as filter_time
from ._adiabatic import quasi_adiabatic_generator as quasi_adiabatic_generator
from ._adiabatic import stability_sensitivity as stability_sensitivity
from ._variational import brickwork_sites as brickwork_sites
from ._variational import fit_lbits as fit_lbits
from ._variational import offdiagonal_cost as offdiagonal_cost
from ._variational import pauli_gates as pauli_gates
# -- eigenstates of long chains, energy transport, quenches, operator spreading, U(1) variant --
from ._lightcone import MAX_CONE_SITES as MAX_CONE_SITES
from ._lightcone import ConeComponent as ConeComponent
from ._lightcone import LightCone as LightCone
from ._lightcone import cone_entropies as cone_entropies
from ._lightcone import eigenstate_entropies as eigenstate_entropies
from ._lightcone import light_cone as light_cone
from ._lightcone import lightcone_entropies as lightcone_entropies
from ._lightcone import lightcone_entropy_stats as lightcone_entropy_stats
from ._lightcone import statevector_entropies as statevector_entropies
from ._locality import energy_density as energy_density
from ._locality import flip_amplitudes as flip_amplitudes
from ._locality import lbit_energy_density as lbit_energy_density
from ._quench import evolve_lbit_frame as evolve_lbit_frame
from ._quench import to_lbit_frame as to_lbit_frame
from ._quench import to_physical_frame as to_physical_frame
from ._observables import configurational_entropy as configurational_entropy
from ._observables import imbalance as imbalance
from ._observables import number_distribution as number_distribution
from ._observables import number_entropy as number_entropy
from ._observables import occupations as occupations
from ._observables import region_entropies as region_entropies
from ._operator_spreading import dressed_operator_weights as dressed_operator_weights
from ._operator_spreading import generator_matrix as generator_matrix
from ._operator_spreading import lieb_robinson_commutators as lieb_robinson_commutators
from ._operator_spreading import otoc as otoc
from ._u1 import random_u1_circuit as random_u1_circuit
from ._u1 import random_u1_generator as random_u1_generator
from ._u1 import sample_u1_model as sample_u1_model
from ._u1 import sample_u1_models as sample_u1_models
from ._controls import clean_models as clean_models
from ._controls import haar_models as haar_models
from ._controls import haar_unitary as haar_unitary
# -- sweeps --
from ._registry import register_observable as register_observable
from ._results import SweepResult as SweepResult
from ._config import load_config as load_config
from ._results import load_run as load_run
from ._results import plot_run as plot_run
from ._runs import run_sweep as run_sweep

__version__ = "0.1.0"
