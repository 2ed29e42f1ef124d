"""Deprecated spellings of keywords: accepted, with a ``DeprecationWarning`` naming the new one.

The vocabulary of the package (``docs/conventions.md``) renamed some keywords, e.g. ``root`` to
``key`` and ``batch_size`` to ``time_batch``; the old spellings keep working through
:func:`renamed_keywords` until they are removed. :func:`key_moved_first` keeps the old calls of
functions whose ``key`` moved from a keyword to the first positional argument.

The decorators keep the wrapped function's name, docstring and signature (``inspect.signature``
shows the new one) and record the aliases in ``__deprecated_keywords__``.
"""

from __future__ import annotations

import functools
import inspect
import os
import sys
import warnings

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _warn(message: str):
    # Attribute the warning to the first frame outside jaxmbl (the user's call), past nested
    # wrappers and internal forwarding (evolve -> krylov_evolve).
    frame, level = sys._getframe(0), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, DeprecationWarning, stacklevel=level)


def renamed_keywords(**renames):
    """Decorator: accept each ``old=`` keyword as the new ``renames[old]`` keyword, with a warning.

    Args:
        **renames: ``old_name="new_name"`` pairs.

    Returns:
        The decorator. Passing both spellings raises ``TypeError``.

    Example:
        >>> import warnings
        >>> @renamed_keywords(tol="series_tol")
        ... def f(*, series_tol=1.0):
        ...     return series_tol
        >>> with warnings.catch_warnings(record=True) as w:
        ...     warnings.simplefilter("always")
        ...     f(tol=0.5), w[0].category.__name__
        (0.5, 'DeprecationWarning')
    """

    def decorate(fn):
        params = list(inspect.signature(fn).parameters)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs or (new in params and params.index(new) < len(args)):
                        raise TypeError(f"{fn.__name__}() got both {old}= (deprecated) and {new}=; pass only {new}=")
                    _warn(f"{fn.__name__}({old}=...) is deprecated and will be removed; use {new}=... instead")
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        wrapper.__deprecated_keywords__ = {**getattr(fn, "__deprecated_keywords__", {}), **renames}
        return wrapper

    return decorate


def key_moved_first(fn):
    """Decorator for a function whose ``key`` moved from a keyword to the first positional argument.

    An old call ``fn(a, b, key=k)`` (positional arguments and ``key=``) becomes ``fn(k, a, b)``
    with a ``DeprecationWarning``; ``fn(k, a, b)`` and all-keyword calls pass unchanged.

    Args:
        fn: the function, whose first parameter is ``key``.

    Returns:
        The wrapped function.

    Example:
        >>> import warnings
        >>> @key_moved_first
        ... def g(key, x):
        ...     return key, x
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     g(2, key=1)
        (1, 2)
    """

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if "key" in kwargs and args:
            _warn(f"{fn.__name__}(..., key=key) is deprecated; pass the key first: {fn.__name__}(key, ...)")
            args = (kwargs.pop("key"),) + args
        return fn(*args, **kwargs)

    wrapper.__deprecated_keywords__ = {**getattr(fn, "__deprecated_keywords__", {}), "key (keyword)": "key (first)"}
    return wrapper
