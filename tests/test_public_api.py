"""The flat public namespace keeps every name it has ever exported (a promise to users)."""

import pytest

import jaxmbl as jm

# Every public name exported by jaxmbl 0.1 (before the subpackage layout). Never remove one: rename
# with a documented alias instead.
NAMES_0_1 = [
    "Circuit",
    "ConeComponent",
    "GeneratorUnitary",
    "Lattice",
    "LbitFrameOperator",
    "LbitHamiltonian",
    "LightCone",
    "LocalUnitary",
    "MAX_CONE_SITES",
    "PAULI",
    "PauliSum",
    "PerturbedModel",
    "R_GOE",
    "R_POISSON",
    "SweepResult",
    "SwingleModel",
    "basis_bits",
    "basis_state",
    "brickwork_sites",
    "circuit",
    "clean_models",
    "complex_dtype",
    "cone_entropies",
    "configurational_entropy",
    "couplings_from_energies",
    "dense_hamiltonian",
    "density_of_states",
    "dephased_entropy",
    "dressed_operator_weights",
    "eigenstate_entropies",
    "eigenstates",
    "eigh",
    "eigvalsh",
    "energies",
    "energy_density",
    "entanglement_spectrum",
    "entanglement_vs_energy",
    "entropy",
    "evolve",
    "evolve_exact",
    "evolve_lbit_frame",
    "filter_ft",
    "filter_time",
    "fit_lbits",
    "flip_amplitudes",
    "generator_matrix",
    "generator_unitary",
    "haar_models",
    "haar_unitary",
    "imbalance",
    "krylov_evolve",
    "lbit_energy_density",
    "lbit_frame",
    "lbit_hamiltonian",
    "level_spacing_ratio",
    "lieb_robinson_commutators",
    "light_cone",
    "lightcone_entropies",
    "lightcone_entropy_stats",
    "load_config",
    "load_model",
    "load_run",
    "map_realizations",
    "mean_ratio",
    "mutual_information",
    "neel_state",
    "number_distribution",
    "number_entropy",
    "occupations",
    "offdiagonal_cost",
    "otoc",
    "pauli_gates",
    "pauli_string",
    "perturbed_model",
    "plot_run",
    "product_state",
    "quasi_adiabatic_generator",
    "random_circuit",
    "random_field_heisenberg",
    "random_generator",
    "random_local_perturbation",
    "random_u1_circuit",
    "random_u1_generator",
    "realization_keys",
    "reduce_phase",
    "reduced_density_matrix",
    "region_entropies",
    "register_observable",
    "run_sweep",
    "sample_lbit_hamiltonian",
    "sample_model",
    "sample_models",
    "sample_u1_model",
    "sample_u1_models",
    "save_model",
    "sector_basis",
    "spectral_form_factor",
    "stability_sensitivity",
    "statevector_entropies",
    "to_lbit_frame",
    "to_physical_frame",
    "validate_region",
]


@pytest.mark.parametrize("name", NAMES_0_1)
def test_name_is_exported(name):
    assert hasattr(jm, name), f"jm.{name} disappeared from the public namespace"


def test_namespaces():
    assert jm.sweep.run_sweep is jm.run_sweep
    assert jm.sweep.load_run is jm.load_run
    assert callable(jm.reproduce.reproduce)
    assert [c.id for c in jm.reproduce.all_claims()][:7] == ["C1", "C2", "C3", "C4", "C5", "C6", "C7"]


def test_version_comes_from_the_package_metadata():
    from importlib import metadata

    assert jm.__version__ == metadata.version("jaxmbl")
