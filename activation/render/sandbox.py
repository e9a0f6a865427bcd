"""The Jinja2 sandbox that runs marketers' templates, and how a template part is compiled.

Templates come from people, not from code review, and run once per recipient, so they run in
an `ImmutableSandboxedEnvironment` narrowed further:

- no loader: templates are strings; `{% include %}`, `{% import %}`, `{% extends %}` and
  `{% autoescape %}` are refused when the template is compiled;
- no attribute or key starting with `_` (`__class__`, `__globals__`,
  `_TemplateReference__context`): refused at compile time, and at render time for names
  that only appear then; both raise `TemplateSecurityError` with a message a marketer can
  read, never a repr of what was reached;
- calls only to macros, `range`, `namespace`, `loop.cycle`/`loop.changed` and a short list of
  read-only str/dict/date methods (`str.format` and friends are not on it);
- no globals but `range` (capped) and `namespace`; filters from `filters.SAFE_FILTERS` only;
- `StrictUndefined`: a variable the row does not have is an error naming it, unless the
  template says what to do instead (`| default(...)`, `is defined`); NULL prints as "";
- limits (see `limits`): loops and macro calls draw from a per-render budget, `*`, `+`,
  `**` and `~` check the size of what they would build before building it, `%` does not
  format strings, and output stops at the part's maximum size. To guard `for` and `~`, which
  Jinja does not let a sandbox intercept, the parsed template is rewritten before code
  generation: loop iterables and concatenations go through internal filters whose names a
  template cannot write. Constant folding is off so nothing large is built at compile time.

HTML parts are autoescaped; subject, text, SMS and webhook parts are plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, time
from itertools import islice
from typing import Any, cast

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.environment import Template
from jinja2.exceptions import SecurityError, TemplateAssertionError
from jinja2.meta import find_undeclared_variables
from jinja2.runtime import Context, LoopContext, Macro, Undefined, markup_join, str_join
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace, pass_context
from jinja2.visitor import NodeTransformer

from activation.render.errors import (
    TemplateCompileError,
    TemplateError,
    TemplateLimitError,
    TemplateRenderError,
    TemplateSecurityError,
)
from activation.render.filters import SAFE_FILTERS
from activation.render.limits import RenderLimits, active_budget

_ITERATE_FILTER = "_tidemark_iterate"
_CONCAT_FILTER = "_tidemark_concat"
_CHUNKS_PER_CHECK = 32
_DICT_ATTRIBUTES = frozenset(dir(dict))
_MAX_INTEGER_BITS = 10_000  # ~3,000 digits: far beyond any amount, far below a slow number

_STR_METHODS = frozenset(
    {"upper", "lower", "title", "capitalize", "casefold", "swapcase", "strip", "lstrip"}
    | {"rstrip", "startswith", "endswith", "split", "rsplit", "splitlines", "count", "find"}
    | {"rfind", "removeprefix", "removesuffix", "isalpha", "isdigit", "isnumeric", "isalnum"}
    | {"isspace", "isupper", "islower", "istitle"}
)
_MAPPING_METHODS = frozenset({"get", "items", "keys", "values"})
_SEQUENCE_METHODS = frozenset({"count", "index"})
_DATE_METHODS = frozenset({"strftime", "isoformat", "date", "time", "weekday", "isoweekday"})
_LOOP_METHODS = frozenset({"cycle", "changed"})

# Jinja filters that read attributes named by a string: left out of SAFE_FILTERS, and a
# template naming one is treated as trying to reach internals.
_ATTRIBUTE_FILTERS = frozenset({"attr", "map", "selectattr", "rejectattr", "groupby"})

_REFUSED_STATEMENTS: dict[type[nodes.Node], str] = {
    nodes.Extends: "{% extends %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.EvalContextModifier: "{% autoescape %}",
}


def _forbidden_name(name: str) -> str:
    return (
        f"templates cannot use {name!r}: names starting with '_' are internal and not "
        "available to templates"
    )


def bounded_range(*args: int) -> range:
    """`range()` for templates, refused beyond the render's `max_range`."""
    numbers = range(*args)
    limit = active_budget().limits.max_range
    if len(numbers) > limit:
        raise TemplateLimitError(
            f"range() of {len(numbers):,} numbers exceeds the limit of {limit:,}"
        )
    return numbers


def _iterate(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every `for` loop's iterable: each iteration spends from the render's budget."""
    budget = active_budget()
    for item in iterable:
        budget.spend()
        yield item


@pass_context
def _concat(context: Context, parts: tuple[Any, ...]) -> str:
    """The `~` operator, with the size of the result checked before it is built."""
    budget = active_budget()
    budget.check_size(sum(len(str(part)) for part in parts), "the ~ operator")
    joined: str = markup_join(parts) if context.eval_ctx.autoescape else str_join(parts)
    budget.check_size(len(joined), "the ~ operator")
    return joined


TEMPLATE_GLOBALS: dict[str, Any] = {"range": bounded_range, "namespace": Namespace}
"""The only functions a template finds besides its variables."""


def with_globals(variables: Mapping[str, Any]) -> dict[str, Any]:
    """The variables a part renders with: the template globals, then `variables`.

    Built once per recipient and shared by all the message's parts (Jinja would otherwise
    merge its globals into a new dict for every part it renders).
    """
    return {**TEMPLATE_GLOBALS, **variables}


def _blank_for_null(value: Any) -> Any:
    return "" if value is None else value


def _sized(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


def _check_integer_bits(bits: int, what: str) -> None:
    if bits > _MAX_INTEGER_BITS:
        raise TemplateLimitError(f"{what} would build a number with more than 3,000 digits")


class TemplateSandbox(ImmutableSandboxedEnvironment):
    """The environment every template part is compiled in (one for HTML, one for text)."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def __init__(self, *, html: bool) -> None:
        super().__init__(
            autoescape=html,
            undefined=StrictUndefined,
            finalize=_blank_for_null,
            optimized=False,
            loader=None,
            cache_size=0,
        )
        self.filters = {**SAFE_FILTERS, _ITERATE_FILTER: _iterate, _CONCAT_FILTER: _concat}
        self.globals = dict(TEMPLATE_GLOBALS)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        if attribute.startswith("_"):
            raise TemplateSecurityError(_forbidden_name(attribute))
        raise TemplateSecurityError(
            f"templates cannot use {attribute!r} of a {type(obj).__name__}: it would change "
            "the recipient's data or reach internals"
        )

    def wrap_str_format(self, value: Any) -> None:
        """No sandboxed `str.format`: `call` refuses it like any method not on the list."""
        return None

    def getattr(self, obj: Any, attribute: str) -> Any:
        """`row.city`: a dict key that is not a dict method is read directly.

        Jinja tries the attribute first and falls back to the key through an AttributeError,
        which costs more than the rest of a lookup; segment rows and the lists of dicts in
        them are read this way on every message. Keys are data, and `_` names never get
        here (refused at compile time), so nothing is bypassed.
        """
        if type(obj) is dict and attribute in obj and attribute not in _DICT_ATTRIBUTES:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = active_budget()
        if operator == "%" and isinstance(left, str):
            raise TemplateSecurityError(
                "the % operator cannot format text in templates; use filters such as "
                "money, round or date"
            )
        if operator == "*":
            if _sized(left) and isinstance(right, int):
                budget.check_size(len(left) * right, "the * operator")
            elif _sized(right) and isinstance(left, int):
                budget.check_size(len(right) * left, "the * operator")
            elif isinstance(left, int) and isinstance(right, int):
                _check_integer_bits(left.bit_length() + right.bit_length(), "the * operator")
        elif operator == "+" and _sized(left) and _sized(right):
            budget.check_size(len(left) + len(right), "the + operator")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            _check_integer_bits(max(left.bit_length(), 1) * max(right, 0), "the ** operator")
        return self.binop_table[operator](left, right)

    def call(
        __self,
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        if isinstance(__obj, Undefined):
            return __obj()  # raises the error naming the missing variable
        if not _callable_from_templates(__obj):
            raise TemplateSecurityError(f"templates cannot call {_callable_name(__obj)}")
        active_budget().spend()
        return __context.call(__obj, *args, **kwargs)


def _callable_from_templates(obj: Any) -> bool:
    if isinstance(obj, Macro) or obj is bounded_range or obj is Namespace:
        return True
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", None)
    if owner is None or not isinstance(name, str):
        return False
    if isinstance(owner, str):
        return name in _STR_METHODS
    if isinstance(owner, Mapping):
        return name in _MAPPING_METHODS
    if isinstance(owner, list | tuple):
        return name in _SEQUENCE_METHODS
    if isinstance(owner, date | time):
        return name in _DATE_METHODS
    if isinstance(owner, LoopContext):
        return name in _LOOP_METHODS
    return False


def _callable_name(obj: Any) -> str:
    name = getattr(obj, "__name__", None)
    owner = getattr(obj, "__self__", None)
    if isinstance(name, str) and not name.startswith("_"):
        return f"{type(owner).__name__}.{name}()" if owner is not None else f"{name}()"
    return "this object"


HTML_SANDBOX = TemplateSandbox(html=True)
TEXT_SANDBOX = TemplateSandbox(html=False)


def _refuse_unsafe_nodes(tree: nodes.Node, part: str) -> None:
    """Refuse what no template may do, before any code is generated."""
    for node in _walk(tree):
        for kind, statement in _REFUSED_STATEMENTS.items():
            if isinstance(node, kind):
                raise TemplateSecurityError(
                    f"{statement} is not allowed: a template is one self-contained text",
                    part=part,
                    line=node.lineno,
                )
        name: object = None
        if isinstance(node, nodes.Getattr):
            name = node.attr
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            name = node.arg.value
        elif isinstance(node, nodes.NSRef):
            name = node.attr
        elif isinstance(node, nodes.Filter | nodes.Test | nodes.Name):
            name = node.name
            if isinstance(node, nodes.Filter) and name in _ATTRIBUTE_FILTERS:
                raise TemplateSecurityError(
                    f"the filter {name!r} is not available: templates cannot look up "
                    "attributes by name",
                    part=part,
                    line=node.lineno,
                )
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateSecurityError(_forbidden_name(name), part=part, line=node.lineno)
        if isinstance(node, nodes.For) and node.recursive:
            raise TemplateCompileError(
                "recursive loops are not supported", part=part, line=node.lineno
            )


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


class _InsertGuards(NodeTransformer):
    """Route loop iterables and `~` through the budget-checking internal filters."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = _filter(cast(nodes.Expr, node.iter), _ITERATE_FILTER)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return _filter(nodes.Tuple(node.nodes, "load", lineno=node.lineno), _CONCAT_FILTER)


def _filter(value: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(value, name, [], [], None, None, lineno=value.lineno)


def _compile_error(error: TemplateSyntaxError, part: str) -> TemplateError:
    message = error.message or "invalid template syntax"
    if isinstance(error, TemplateAssertionError) and message.startswith("No filter named"):
        name = message.split("'")[1] if "'" in message else "?"
        available = ", ".join(sorted(name for name in SAFE_FILTERS if name != "d"))
        message = f"unknown filter {name!r}; templates can use: {available}"
    return TemplateCompileError(message, part=part, line=error.lineno)


def _parse(environment: TemplateSandbox, source: str, part: str, max_source: int) -> nodes.Template:
    if len(source) > max_source:
        raise TemplateLimitError(
            f"the template is {len(source):,} characters long; the limit is {max_source:,}",
            part=part,
        )
    try:
        tree = environment.parse(source)
    except TemplateSyntaxError as error:
        raise _compile_error(error, part) from None
    _refuse_unsafe_nodes(tree, part)
    return tree


def _build(
    environment: TemplateSandbox, tree: nodes.Template, part: str
) -> tuple[Template, frozenset[str]]:
    tree.set_environment(environment)
    try:
        variables = frozenset(find_undeclared_variables(tree)) - environment.globals.keys()
        guarded = _InsertGuards().visit(tree)
        guarded.set_environment(environment)
        code = environment.compile(guarded)
    except TemplateSyntaxError as error:
        raise _compile_error(error, part) from None
    # No template globals: every render passes them in its shared variables (`with_globals`),
    # which spares Jinja from copying them into each new context.
    template = environment.template_class.from_code(environment, code, {}, None)
    return template, variables


def _template_line(error: BaseException, template: Template) -> int | None:
    line = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = template.get_corresponding_lineno(trace.tb_lineno)
        trace = trace.tb_next
    return line


def _render_error(
    error: Exception, template: Template, part: str, with_line: bool
) -> TemplateError:
    """What went wrong while rendering, as an error a marketer can act on."""
    line = _template_line(error, template) if with_line else None
    if isinstance(error, TemplateError):
        return error.located(part, line)
    if isinstance(error, UndefinedError):
        message = (
            f"{error.message}; if some recipients lack it, give a fallback with "
            "| default(...) or test it with `is defined`"
        )
        return TemplateRenderError(message, part=part, line=line)
    if isinstance(error, SecurityError):
        return TemplateSecurityError(
            "the template tried to reach something templates cannot use", part=part, line=line
        )
    if isinstance(error, RecursionError):
        return TemplateLimitError("macros call each other too deeply", part=part, line=line)
    return TemplateRenderError(f"{type(error).__name__}: {error}"[:300], part=part, line=line)


class CompiledPart:
    """One compiled template part (a subject, a body, a payload leaf), ready to render.

    The output is measured while it is produced, in slices of chunks, so a runaway loop stops
    at the output limit instead of after filling memory (it overshoots by at most one slice
    of chunks, each bounded by the limits on what expressions build).
    """

    __slots__ = ("_template", "_with_line", "max_output", "part", "variables")

    def __init__(
        self,
        template: Template,
        *,
        part: str,
        variables: frozenset[str],
        max_output: int,
        with_line: bool,
    ) -> None:
        self._template = template
        self._with_line = with_line
        self.part = part
        self.variables = variables
        self.max_output = max_output

    def render(self, variables: dict[str, Any]) -> str:
        """This part for one recipient: `variables` from `with_globals`, inside a RenderScope."""
        template = self._template
        try:
            return self._measured(
                template.root_render_func(template.new_context(variables, shared=True))
            )
        except Exception as error:
            raise _render_error(error, template, self.part, self._with_line) from None

    def _measured(self, chunks: Iterator[str]) -> str:
        kept: list[str] = []
        size = 0
        while batch := list(islice(chunks, _CHUNKS_PER_CHECK)):  # len/sum in C, per slice
            size += sum(map(len, batch))
            if size > self.max_output:
                raise TemplateLimitError(
                    f"the rendered text is longer than the limit of {self.max_output:,} characters"
                )
            kept.extend(batch)
        return "".join(kept)


class CompiledExpression:
    """A payload leaf that is one `{{ expression }}`: renders to the value, not its text."""

    __slots__ = ("_template", "part", "variables")

    def __init__(self, template: Template, *, part: str, variables: frozenset[str]) -> None:
        self._template = template
        self.part = part
        self.variables = variables

    def evaluate(self, variables: dict[str, Any]) -> Any:
        template = self._template
        try:
            context = template.new_context(variables, shared=True)
            for _ in template.root_render_func(context):
                pass
            value = context.vars["result"]
            if isinstance(value, Undefined):
                str(value)  # StrictUndefined raises the error naming the variable
            return value
        except Exception as error:
            raise _render_error(error, template, self.part, with_line=False) from None


def compile_part(
    source: str,
    *,
    part: str,
    html: bool,
    limits: RenderLimits,
    max_output: int | None = None,
    max_source: int | None = None,
    with_line: bool = True,
) -> CompiledPart:
    """Validate and compile one template part; errors name the part and the line.

    `max_output`/`max_source` override the limits for parts with their own (an SMS body,
    HTML compiled from MJML); `with_line` is off where lines do not match what the author
    wrote (HTML compiled from MJML).
    """
    environment = HTML_SANDBOX if html else TEXT_SANDBOX
    tree = _parse(environment, source, part, max_source or limits.max_source_chars)
    template, variables = _build(environment, tree, part)
    return CompiledPart(
        template,
        part=part,
        variables=variables,
        max_output=max_output if max_output is not None else limits.max_output_chars,
        with_line=with_line,
    )


def compile_value(
    source: str, *, part: str, limits: RenderLimits
) -> CompiledPart | CompiledExpression:
    """A webhook payload leaf: exactly one `{{ expression }}` keeps its type, else it is text."""
    tree = _parse(TEXT_SANDBOX, source, part, limits.max_source_chars)
    body = tree.body
    if (
        len(body) == 1
        and isinstance(body[0], nodes.Output)
        and len(body[0].nodes) == 1
        and not isinstance(body[0].nodes[0], nodes.TemplateData)
    ):
        expression = body[0].nodes[0]
        assign = nodes.Assign(nodes.Name("result", "store"), expression, lineno=expression.lineno)
        template, variables = _build(TEXT_SANDBOX, nodes.Template([assign], lineno=1), part)
        return CompiledExpression(template, part=part, variables=variables)
    template, variables = _build(TEXT_SANDBOX, tree, part)
    return CompiledPart(
        template,
        part=part,
        variables=variables,
        max_output=limits.max_output_chars,
        with_line=True,
    )
