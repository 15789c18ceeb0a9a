"""Components by name, registered where they are defined (score_sde_pytorch's ``models/utils.py`` style).

    NETWORKS = Registry("network")

    @NETWORKS.register("mnist")
    def mnist(in_channels, label_dim, image_size): ...

    NETWORKS["mnist"](1, 10, 28)     # an unknown name: KeyError naming the known ones

One style for every kind the pipeline picks by name: energy networks, trajectory models,
continual-learning methods, and the builders behind self-describing checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any


class Registry(Mapping[str, Callable[..., Any]]):
    """A read-only mapping name -> builder, filled by the ``register`` decorator; iteration follows registration."""

    def __init__(self, what: str):
        self.what = what  # "network", "continual method", ...: for messages
        self._items: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Decorator: ``fn`` is the builder of ``name``; a second builder for one name is an error."""
        def add(fn: Callable[..., Any]) -> Callable[..., Any]:
            if self._items.get(name, fn) is not fn:
                raise ValueError(f"{self.what} {name!r} registered twice")
            self._items[name] = fn
            return fn
        return add

    def __getitem__(self, name: str) -> Callable[..., Any]:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"unknown {self.what} {name!r} (known: {', '.join(self._items)})") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"Registry({self.what!r}: {', '.join(self._items)})"
