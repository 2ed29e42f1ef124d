"""jaxmbl: a differentiable, GPU-ready simulator of many-body localization in JAX.

The model is Swingle's l-bit fixed point H = U H0 U^dagger (arXiv:1307.0507). See
``docs/conventions.md`` (module ``jaxmbl._core.conventions``) for the conventions used throughout.
"""

# -- sweeps (also jm.sweep.*) and the claims of the paper (jm.reproduce.*) --
from jaxmbl import reproduce as reproduce
from jaxmbl import sweep as sweep

# -- exact l-bit dephasing of product states, any chain length (exports) --
from jaxmbl._analysis.dephasing import MAX_TRANSFER_ENTRIES as MAX_TRANSFER_ENTRIES
from jaxmbl._analysis.dephasing import boundary_sites as boundary_sites
from jaxmbl._analysis.dephasing import dephasing_entropy as dephasing_entropy
from jaxmbl._analysis.dephasing import dephasing_rdm as dephasing_rdm
from jaxmbl._analysis.dephasing_physical import MAX_PHYSICAL_SITES as MAX_PHYSICAL_SITES
from jaxmbl._analysis.dephasing_physical import frame_entropy_bound as frame_entropy_bound
from jaxmbl._analysis.dephasing_physical import physical_dephasing_entropy as physical_dephasing_entropy

# -- entanglement (exports) --
from jaxmbl._analysis.entanglement import dephased_entropy as dephased_entropy
from jaxmbl._analysis.entanglement import entanglement_spectrum as entanglement_spectrum
from jaxmbl._analysis.entanglement import entropy as entropy
from jaxmbl._analysis.entanglement import mutual_information as mutual_information
from jaxmbl._analysis.entanglement import reduced_density_matrix as reduced_density_matrix

# -- eigenstates of long chains, energy transport, quenches, operator spreading, U(1) variant --
from jaxmbl._analysis.lightcone import MAX_CONE_SITES as MAX_CONE_SITES
from jaxmbl._analysis.lightcone import ConeComponent as ConeComponent
from jaxmbl._analysis.lightcone import LightCone as LightCone
from jaxmbl._analysis.lightcone import cone_entropies as cone_entropies
from jaxmbl._analysis.lightcone import eigenstate_entropies as eigenstate_entropies
from jaxmbl._analysis.lightcone import light_cone as light_cone
from jaxmbl._analysis.lightcone import lightcone_entropies as lightcone_entropies
from jaxmbl._analysis.lightcone import lightcone_entropy_stats as lightcone_entropy_stats
from jaxmbl._analysis.lightcone import statevector_entropies as statevector_entropies
from jaxmbl._analysis.observables import configurational_entropy as configurational_entropy
from jaxmbl._analysis.observables import imbalance as imbalance
from jaxmbl._analysis.observables import number_distribution as number_distribution
from jaxmbl._analysis.observables import number_entropy as number_entropy
from jaxmbl._analysis.observables import occupations as occupations
from jaxmbl._analysis.observables import region_entropies as region_entropies
from jaxmbl._analysis.spectra import R_GOE as R_GOE
from jaxmbl._analysis.spectra import R_POISSON as R_POISSON
from jaxmbl._analysis.spectra import density_of_states as density_of_states
from jaxmbl._analysis.spectra import entanglement_vs_energy as entanglement_vs_energy
from jaxmbl._analysis.spectra import level_spacing_ratio as level_spacing_ratio
from jaxmbl._analysis.spectra import mean_ratio as mean_ratio
from jaxmbl._analysis.spectra import spectral_form_factor as spectral_form_factor
from jaxmbl._analysis.spreading import dressed_operator_weights as dressed_operator_weights
from jaxmbl._analysis.spreading import generator_matrix as generator_matrix
from jaxmbl._analysis.spreading import lieb_robinson_commutators as lieb_robinson_commutators
from jaxmbl._analysis.spreading import otoc as otoc
from jaxmbl._analysis.transport import energy_density as energy_density
from jaxmbl._analysis.transport import flip_amplitudes as flip_amplitudes
from jaxmbl._analysis.transport import lbit_energy_density as lbit_energy_density
from jaxmbl._core.conventions import (
    PAULI as PAULI,
)
from jaxmbl._core.conventions import (
    basis_bits as basis_bits,
)
from jaxmbl._core.conventions import (
    complex_dtype as complex_dtype,
)
from jaxmbl._core.conventions import (
    pauli_string as pauli_string,
)
from jaxmbl._core.environment import package_version as _package_version
from jaxmbl._core.errors import JaxmblError as JaxmblError
from jaxmbl._core.lattice import Lattice as Lattice
from jaxmbl._core.lattice import as_lattice as as_lattice
from jaxmbl._core.lattice import validate_region as validate_region
from jaxmbl._core.operators import DenseOperator as DenseOperator
from jaxmbl._core.operators import as_operator as as_operator

# -- exact diagonalization, Krylov, spectra (exports) --
from jaxmbl._hamiltonians.ed import eigh as eigh
from jaxmbl._hamiltonians.ed import eigvalsh as eigvalsh
from jaxmbl._hamiltonians.evolve import evolve as evolve
from jaxmbl._hamiltonians.interior import InteriorEigh as InteriorEigh
from jaxmbl._hamiltonians.interior import interior_eigh as interior_eigh
from jaxmbl._hamiltonians.krylov import krylov_evolve as krylov_evolve
from jaxmbl._hamiltonians.lbit_pauli import lbit_to_pauli as lbit_to_pauli
from jaxmbl._hamiltonians.lbit_pauli import pauli_to_lbit as pauli_to_lbit

# -- operators (exports) --
from jaxmbl._hamiltonians.models import random_field_heisenberg as random_field_heisenberg
from jaxmbl._hamiltonians.models import random_local_perturbation as random_local_perturbation
from jaxmbl._hamiltonians.pauli import PauliSum as PauliSum
from jaxmbl._hamiltonians.pauli import sector_basis as sector_basis
from jaxmbl._hamiltonians.pauli_algebra import commutator as commutator
from jaxmbl._hamiltonians.pauli_algebra import diagonal_part as diagonal_part
from jaxmbl._hamiltonians.pauli_algebra import frobenius_norm_sq as frobenius_norm_sq
from jaxmbl._hamiltonians.pauli_algebra import offdiagonal_part as offdiagonal_part
from jaxmbl._hamiltonians.pauli_algebra import pauli_product as pauli_product
from jaxmbl._hamiltonians.pauli_algebra import string_product as string_product

# -- perturbed model, stability, variational l-bits --
from jaxmbl._hamiltonians.perturbed import LbitFrameOperator as LbitFrameOperator
from jaxmbl._hamiltonians.perturbed import PerturbedModel as PerturbedModel
from jaxmbl._hamiltonians.perturbed import lbit_frame as lbit_frame
from jaxmbl._hamiltonians.perturbed import perturbed_model as perturbed_model
from jaxmbl._hamiltonians.polynomial import ChebyshevApply as ChebyshevApply
from jaxmbl._hamiltonians.polynomial import chebyshev_apply as chebyshev_apply
from jaxmbl._hamiltonians.polynomial import regularized_resolvent_apply as regularized_resolvent_apply
from jaxmbl._stability.adiabatic import filter_ft as filter_ft
from jaxmbl._stability.adiabatic import filter_time as filter_time
from jaxmbl._stability.adiabatic import quasi_adiabatic_generator as quasi_adiabatic_generator
from jaxmbl._stability.adiabatic import stability_sensitivity as stability_sensitivity

# -- J(s) applied to states, its quasi-locality, and the effective gap (paper section IV.B-D) --
from jaxmbl._stability.agp import AGPResult as AGPResult
from jaxmbl._stability.agp import variational_agp as variational_agp
from jaxmbl._stability.dangerous import DangerousResult as DangerousResult
from jaxmbl._stability.dangerous import most_dangerous_perturbation as most_dangerous_perturbation
from jaxmbl._stability.dangerous_measures import local_pauli_basis as local_pauli_basis
from jaxmbl._stability.dangerous_measures import perturbation_measure as perturbation_measure
from jaxmbl._stability.effective_gap import generator_deviation as generator_deviation
from jaxmbl._stability.effective_gap import near_resonant_fraction as near_resonant_fraction

# -- families H(s) and the per-eigenstate fidelity susceptibility (paper section IV) --
from jaxmbl._stability.families import Family as Family
from jaxmbl._stability.families import conjugation_family as conjugation_family
from jaxmbl._stability.families import family as family
from jaxmbl._stability.families import lbit_coupling_family as lbit_coupling_family
from jaxmbl._stability.families import perturbation_family as perturbation_family
from jaxmbl._stability.generator import apply_generator as apply_generator
from jaxmbl._stability.j_locality import commutator_weights as commutator_weights
from jaxmbl._stability.j_locality import generator_locality as generator_locality
from jaxmbl._stability.j_locality import pauli_site_weights as pauli_site_weights
from jaxmbl._stability.j_locality import pauli_weight_outside as pauli_weight_outside
from jaxmbl._stability.lbit_diagnostics import CouplingDecay as CouplingDecay
from jaxmbl._stability.lbit_diagnostics import coupling_decay as coupling_decay
from jaxmbl._stability.lbit_diagnostics import spectrum_fraction as spectrum_fraction
from jaxmbl._stability.lbit_fit import LbitFit as LbitFit
from jaxmbl._stability.lbit_fit import fit_lbits as fit_lbits
from jaxmbl._stability.susceptibility import agp_norm as agp_norm
from jaxmbl._stability.susceptibility import fidelity_susceptibility as fidelity_susceptibility
from jaxmbl._stability.susceptibility import typical_susceptibility as typical_susceptibility
from jaxmbl._stability.variational import brickwork_sites as brickwork_sites
from jaxmbl._stability.variational import gate_angles as gate_angles
from jaxmbl._stability.variational import offdiagonal_cost as offdiagonal_cost
from jaxmbl._stability.variational import pauli_gates as pauli_gates
from jaxmbl._swingle.controls import clean_models as clean_models
from jaxmbl._swingle.controls import haar_models as haar_models
from jaxmbl._swingle.controls import haar_unitary as haar_unitary
from jaxmbl._swingle.dynamics import evolve_exact as evolve_exact
from jaxmbl._swingle.frames import evolve_lbit_frame as evolve_lbit_frame
from jaxmbl._swingle.frames import to_lbit_frame as to_lbit_frame
from jaxmbl._swingle.frames import to_physical_frame as to_physical_frame
from jaxmbl._swingle.generator_unitary import (
    GeneratorUnitary as GeneratorUnitary,
)
from jaxmbl._swingle.generator_unitary import (
    generator_unitary as generator_unitary,
)
from jaxmbl._swingle.generator_unitary import (
    random_generator as random_generator,
)
from jaxmbl._swingle.lbits import (
    LbitHamiltonian as LbitHamiltonian,
)
from jaxmbl._swingle.lbits import (
    couplings_from_energies as couplings_from_energies,
)
from jaxmbl._swingle.lbits import (
    lbit_hamiltonian as lbit_hamiltonian,
)
from jaxmbl._swingle.lbits import (
    reduce_phase as reduce_phase,
)
from jaxmbl._swingle.lbits import (
    sample_lbit_hamiltonian as sample_lbit_hamiltonian,
)
from jaxmbl._swingle.model import (
    SwingleModel as SwingleModel,
)
from jaxmbl._swingle.model import (
    dense_hamiltonian as dense_hamiltonian,
)
from jaxmbl._swingle.model import (
    eigenstates as eigenstates,
)
from jaxmbl._swingle.model import (
    energies as energies,
)
from jaxmbl._swingle.model import (
    load_model as load_model,
)
from jaxmbl._swingle.model import (
    map_realizations as map_realizations,
)
from jaxmbl._swingle.model import (
    realization_keys as realization_keys,
)
from jaxmbl._swingle.model import (
    sample_model as sample_model,
)
from jaxmbl._swingle.model import (
    sample_models as sample_models,
)
from jaxmbl._swingle.model import (
    save_model as save_model,
)
from jaxmbl._swingle.states import basis_state as basis_state
from jaxmbl._swingle.states import neel_state as neel_state
from jaxmbl._swingle.states import product_state as product_state
from jaxmbl._swingle.u1 import random_u1_circuit as random_u1_circuit
from jaxmbl._swingle.u1 import random_u1_generator as random_u1_generator
from jaxmbl._swingle.u1 import sample_u1_model as sample_u1_model
from jaxmbl._swingle.u1 import sample_u1_models as sample_u1_models
from jaxmbl._swingle.unitaries import (
    Circuit as Circuit,
)
from jaxmbl._swingle.unitaries import (
    LocalUnitary as LocalUnitary,
)
from jaxmbl._swingle.unitaries import (
    circuit as circuit,
)
from jaxmbl._swingle.unitaries import (
    random_circuit as random_circuit,
)
from jaxmbl.sweep import SweepResult as SweepResult
from jaxmbl.sweep import load_config as load_config
from jaxmbl.sweep import load_run as load_run
from jaxmbl.sweep import plot_run as plot_run
from jaxmbl.sweep import register_observable as register_observable
from jaxmbl.sweep import run_sweep as run_sweep

__version__ = _package_version()  # from the package metadata (pyproject.toml)
