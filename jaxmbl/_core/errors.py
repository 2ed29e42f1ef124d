"""The one exception type jaxmbl raises for bad values: :class:`JaxmblError`.

Every value error the library raises (a bad argument, a request too large for memory, a run
directory that belongs to another configuration) is a :class:`JaxmblError`. It subclasses
:class:`ValueError`, so code that catches ``ValueError`` keeps working. Arguments of the wrong
*type* raise the built-in :class:`TypeError` instead. The ``jaxmbl`` command line catches only
:class:`JaxmblError` and prints it as one line; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class JaxmblError(ValueError):
    """A bad value given to jaxmbl; the message names the argument and how to fix it.

    Example:
        >>> try:
        ...     jm.Lattice((0,))
        ... except jm.JaxmblError as err:
        ...     print(type(err).__name__, isinstance(err, ValueError))
        JaxmblError True
    """


# Shown as ``jaxmbl.JaxmblError`` in tracebacks, where users import it from.
JaxmblError.__module__ = "jaxmbl"
