"""The betting app keeps to its boundaries (issue 10): edges' data only through edges'
selectors, users' rows written only through users' services, money math only in the money
helpers, one rendering of a bet, and modules a newcomer can hold in their head."""

import ast
import re
from pathlib import Path

import pytest

BETTING = Path(__file__).resolve().parents[2] / "betting"
SOURCES = [p for p in BETTING.rglob("*.py") if "migrations" not in p.parts]


def _source(path: Path) -> str:
    return path.read_text()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(BETTING)))
def test_betting_reads_no_edges_table_and_no_edge_model(path):
    source = _source(path)
    assert not re.search(r"\bedges_\w+", source), "raw SQL on an edges table: use edges.selectors"
    assert "Outcome._meta" not in source and "Market._meta" not in source
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module == "edges.models":
            names = {alias.name for alias in node.names}
            assert "Edge" not in names, "query edges through edges.selectors"
            assert "OddsQuote" not in names, "quotes come from edges.selectors"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(BETTING)))
def test_betting_writes_no_user_row_itself(path):
    source = _source(path)
    for node in ast.walk(ast.parse(source)):
        # `<something user-ish>.save(...)` writes a User row: users' services do that.
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "save":
            target = node.func.value
            name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
            assert name not in {"user", "fresh", "bettor", "staff"}, f"{path.name}: {name}.save()"


@pytest.mark.parametrize("name", ["services/limits.py", "api.py", "forms.py", "views.py", "exports.py"])
def test_no_hand_written_money_math(name):
    source = _source(BETTING / name)
    assert not re.search(r"[*/]\s*100\b", source), "use wallet.money / minor_to_decimal"


def test_bet_output_is_the_documented_serializer():
    source = _source(BETTING / "api.py")
    function = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name == "bet_output"
    )
    assert "BetOutputSerializer" in ast.unparse(function) and len(function.body) <= 2


@pytest.mark.parametrize("path", sorted((BETTING / "services").glob("*.py")), ids=lambda p: p.name)
def test_service_modules_stay_small(path):
    assert len(_source(path).splitlines()) < 500


def test_bet_place_reads_as_a_short_sequence_of_steps():
    source = _source(BETTING / "services" / "placement.py")
    function = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name == "bet_place"
    )
    statements = [node for node in function.body if not isinstance(node, ast.Expr)]  # no docstring
    assert len(statements) <= 10
