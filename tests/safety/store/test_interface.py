"""Nothing type-checks the store Protocols at run time: these hold each implementation
to every method of the interfaces it stands behind (names and parameters)."""

import inspect

import pytest

from safety.store import interface
from safety.store.memory import MemoryStore
from safety.store.sql import SqlStore

DECLARING_MODULES = (
    "safety.store.interface",
    "safety.store.review_interface",
    "indexes.hashbank",
    "indexes.manifests",
)


def declared_methods(protocol: type) -> dict:
    return {
        name: member
        for cls in protocol.__mro__
        if cls.__module__ in DECLARING_MODULES
        for name, member in vars(cls).items()
        if inspect.isfunction(member) and not name.startswith("_")
    }


@pytest.mark.parametrize(
    "implementation, protocols, at_least",
    [
        (SqlStore, [interface.Store], 50),
        (MemoryStore, [interface.Store], 50),
    ],
)
def test_each_store_implements_every_method_of_its_interfaces(implementation, protocols, at_least):
    methods = {}
    for protocol in protocols:
        methods.update(declared_methods(protocol))
    assert len(methods) >= at_least
    for name, declared in methods.items():
        implemented = getattr(implementation, name, None)
        assert implemented is not None, f"{implementation.__name__} lacks {name}"
        want = list(inspect.signature(declared).parameters)
        have = list(inspect.signature(implemented).parameters)
        assert have == want, f"{implementation.__name__}.{name}: {have} != {want}"
