"""Make Tidemark's DuckDB-dialect SQL, parameters included, runnable on another engine.

Callers write one statement with DuckDB's `?` / `$name` parameters. The engines disagree on
parameter syntax (ClickHouse binds `{name:Type}` server-side, Snowflake `?` or `:1`) and on
the types a bound list or timestamp takes, and sqlglot cannot parse some parameterised
shapes we rely on (`unnest(?::varchar[])`). So, for engines other than DuckDB, values are
bound as SQL literals *before* transpiling: each parameter token is replaced by the value
rendered by sqlglot (quoted and escaped by the same code that writes the rest of the SQL),
and the result is then parsed and translated like any parameter-free statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlglot
from sqlglot import TokenType, exp

from connectors.warehouse.base import SOURCE_DIALECT, Params


def _literal(value: Any) -> str:
    return exp.convert(value).sql(SOURCE_DIALECT)


def bind_literals(sql: str, params: Params) -> str:
    """`sql` with every `?` / `$name` replaced by its value as a DuckDB literal."""
    if params is None:
        return sql
    tokens = sqlglot.Dialect.get_or_raise(SOURCE_DIALECT).tokenize(sql)
    pieces: list[str] = []
    position = 0
    next_positional = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        replacement: str | None = None
        end = token.end
        if token.token_type in (TokenType.PLACEHOLDER, TokenType.QDCOLON) and token.text.startswith(
            "?"
        ):
            if isinstance(params, Mapping):
                raise ValueError("statement uses '?' parameters but was given named ones")
            if next_positional >= len(params):
                raise ValueError(f"statement needs more than the {len(params)} parameters given")
            replacement = _literal(params[next_positional]) + token.text[1:]
            next_positional += 1
        elif token.token_type == TokenType.PARAMETER and index + 1 < len(tokens):
            name = tokens[index + 1].text
            if not isinstance(params, Mapping):
                raise ValueError(f"statement uses parameter ${name} but was given positional ones")
            if name not in params:
                raise ValueError(f"statement needs parameter {name!r} that was not given")
            replacement = _literal(params[name])
            end = tokens[index + 1].end
            index += 1
        if replacement is not None:
            pieces += [sql[position : token.start], replacement]
            position = end + 1
        index += 1
    if isinstance(params, Sequence) and next_positional != len(params):
        raise ValueError(f"statement uses {next_positional} parameters, {len(params)} were given")
    pieces.append(sql[position:])
    return "".join(pieces)


def _inline_unnested_list(node: exp.Expression) -> exp.Expression:
    """`x IN (SELECT unnest([a, b]))` → `x IN (a, b)`: the same test, in every dialect.

    DuckDB callers pass a key list as one array parameter; once it is a literal, the plain
    IN list is what every engine reads natively (Snowflake has no unnest, ClickHouse's
    arrayJoin would do but a list is simpler).
    """
    if not isinstance(node, exp.In):
        return node
    query = node.args.get("query")
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return node
    if select.args.get("from_") or select.args.get("from") or select.args.get("where"):
        return node
    unnest = select.expressions[0]
    if not isinstance(unnest, exp.Explode | exp.Unnest):
        return node
    array = unnest.this if isinstance(unnest, exp.Explode) else unnest.expressions[0]
    while isinstance(array, exp.Cast):
        array = array.this
    if not isinstance(array, exp.Array) or not array.expressions:
        return node
    return exp.In(this=node.this, expressions=[e.copy() for e in array.expressions])


def _replace_every_match(node: exp.Expression) -> exp.Expression:
    """`regexp_replace(s, p, r, 'g')` → `regexp_replace(s, p, r)`.

    DuckDB replaces the first match unless told 'g'; ClickHouse's REGEXP_REPLACE and
    Snowflake's replace every match and read a fourth argument as something else (an error
    on ClickHouse, a start position on Snowflake). sqlglot passes the flag through.
    """
    if not isinstance(node, exp.RegexpReplace):
        return node
    modifiers = node.args.get("modifiers")
    if isinstance(modifiers, exp.Literal) and modifiers.this == "g":
        node.set("modifiers", None)
        node.set("single_replace", None)
    return node


def _portable(node: exp.Expression) -> exp.Expression:
    return _replace_every_match(_inline_unnested_list(node))


def parse_bound(sql: str, params: Params) -> list[exp.Expression]:
    """The statements of `sql` with parameters bound as literals, ready for any dialect."""
    statements = sqlglot.parse(bind_literals(sql, params), read=SOURCE_DIALECT)
    return [s.transform(_portable) for s in statements if s is not None]


def engine_statements(
    sql: str,
    params: Params,
    dialect: str,
    adapt: Callable[[exp.Expression], exp.Expression] | None = None,
) -> list[str]:
    """`sql` bound and written in `dialect`, one string per statement.

    `adapt` lets an engine fix what sqlglot's generic translation leaves wrong for it
    (ClickHouse's timestamp precision and nullability, say) on each node of the tree.
    """
    statements = parse_bound(sql, params)
    if adapt is None:
        return [s.sql(dialect) for s in statements]
    return [_adapted(s, adapt).sql(dialect) for s in statements]


#: Passes of `adapt` at most: nesting depth of the rewrites that build on one another.
_MAX_ADAPT_PASSES = 8


def _adapted(
    statement: exp.Expression, adapt: Callable[[exp.Expression], exp.Expression]
) -> exp.Expression:
    """`statement` with `adapt` applied until nothing changes.

    sqlglot's transform does not descend into a node `adapt` returned in place of another,
    so a rewrite wrapping a subtree (a time zone conversion inside a CAST) needs another pass
    for what is inside it; `adapt` must leave what it already rewrote alone.
    """
    text = statement.sql()
    for _ in range(_MAX_ADAPT_PASSES):
        statement = statement.transform(adapt)
        rewritten = statement.sql()
        if rewritten == text:
            return statement
        text = rewritten
    raise ValueError(f"rewriting for the engine did not settle: {text[:200]}")
