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
# -- exact diagonalization, Krylov, spectra (exports) --

__version__ = "0.1.0"
