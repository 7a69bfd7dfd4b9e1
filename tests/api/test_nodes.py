"""api.nodes: a node built from its attribute dict is checked against its type's fields the first time."""

from __future__ import annotations

import pytest
import strawberry

from api.nodes import node


@strawberry.type
class Probe:
    id: strawberry.ID
    name: str
    note: str = "—"

    @strawberry.field
    def shout(self) -> str:
        return self.name.upper()


@strawberry.type
class Other:
    id: strawberry.ID
    name: str


def test_a_node_reads_its_values_and_its_class_answers_the_rest():
    made = node(Probe, {"id": "7", "name": "苏州"})
    assert isinstance(made, Probe) and made.id == "7" and made.name == "苏州" and made.note == "—"
    assert made.shout() == "苏州".upper()


def test_a_missing_or_misspelt_field_fails_at_the_first_node():
    with pytest.raises(TypeError, match=r"missing fields \['name'\], unknown fields \['nmae'\]"):
        node(Other, {"id": "1", "nmae": "x"})
    with pytest.raises(TypeError, match=r"missing fields \['name'\]"):
        node(Other, {"id": "1"})
    assert node(Other, {"id": "1", "name": "x"}).name == "x"  # once right, later nodes are not checked again


async def test_a_query_selects_from_such_nodes():
    @strawberry.type
    class Query:
        @strawberry.field
        def probes(self) -> list[Probe]:
            return [node(Probe, {"id": str(i), "name": f"n{i}"}) for i in range(3)]

    result = await strawberry.Schema(Query).execute("{ probes { id name note shout } }")
    assert result.errors is None
    assert result.data == {"probes": [{"id": str(i), "name": f"n{i}", "note": "—", "shout": f"N{i}"} for i in range(3)]}
