"""Which products deduplication has found to be one: nodes and their union-find.

A ``Node`` is one product, of the batch (``BATCH``) or of the catalog (``CATALOG``),
named by its handle; the same handle on both sides is two nodes (an update links them).
``Links`` groups nodes and remembers which rule first linked each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

BATCH = "b"
CATALOG = "c"


class Node(NamedTuple):
    """One product: its side (``BATCH`` or ``CATALOG``) and its handle."""

    side: str
    handle: str


@dataclass
class Links:
    """Union-find over product nodes (``Node``: a batch or a catalog product).

    Only nodes that something linked (or tried to) are held, so a large batch of
    distinct products costs nothing here. Two groups that each hold a catalog product
    are never joined: the catalog has already decided that those are two products.
    """

    parent: dict[Node, Node] = field(default_factory=dict)
    reason: dict[Node, tuple[str, float]] = field(default_factory=dict)
    with_catalog: set[Node] = field(default_factory=set)

    def find(self, node: Node) -> Node:
        """The representative of the node's group."""
        if node not in self.parent:
            self.parent[node] = node
            if node.side == CATALOG:
                self.with_catalog.add(node)
        while self.parent[node] != node:
            self.parent[node] = self.parent[self.parent[node]]
            node = self.parent[node]
        return node

    def peek(self, node: Node) -> Node:
        """The representative of the node's group, without starting to hold the node."""
        return self.find(node) if node in self.parent else node

    def can_link(self, a: Node, b: Node) -> bool:
        """False when linking would join two different catalog products."""
        root_a, root_b = self.peek(a), self.peek(b)
        catalog = (root_a in self.with_catalog or a.side == CATALOG) and (
            root_b in self.with_catalog or b.side == CATALOG
        )
        return root_a == root_b or not catalog

    def link(self, a: Node, b: Node, rule: str, score: float) -> None:
        """Put two products in one group; the first rule that linked a node is its reason."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[root_b] = root_a
            if root_b in self.with_catalog:
                self.with_catalog.add(root_a)
            self.reason.setdefault(a, (rule, score))
            self.reason.setdefault(b, (rule, score))
