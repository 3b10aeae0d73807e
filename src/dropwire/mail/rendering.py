"""Templates render in Jinja2's sandbox: a merchant's template reads the context it is given
and nothing else (no attributes of Python objects, no unsafe calls), and an unknown name is an
error rather than an empty string, so a typo is refused when the template is saved."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment

from dropwire.core.errors import DomainError, FieldProblem, Invalid

MAX_TEMPLATE_CHARS = 100_000
MAX_SUBJECT_CHARS = 250

MAX_REPEAT = 10_000  # 'x' * n, [..] * n
MAX_EXPONENT = 64
MAX_POWER_BITS = 4096


class _Sandbox(SandboxedEnvironment):
    """The sandbox, also refusing arithmetic that would take the process's time or memory."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float):
            bits = left.bit_length() if isinstance(left, int) else 64
            if abs(right) > MAX_EXPONENT or bits * abs(right) > MAX_POWER_BITS:
                raise SecurityError("a power that large is not allowed")
        if operator == "*":
            for sized, count in ((left, right), (right, left)):
                repeats = isinstance(sized, str | list | tuple) and isinstance(count, int)
                if repeats and count * max(len(sized), 1) > MAX_REPEAT:
                    raise SecurityError("a repetition that long is not allowed")
        return super().call_binop(context, operator, left, right)


_PLAIN = _Sandbox(undefined=StrictUndefined, autoescape=False)
_HTML = _Sandbox(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class Parts:
    subject: str
    html: str
    text: str


class TemplateRefused(Invalid):
    """A template that cannot render: refused when it is saved, never when a message is sent."""

    code = "mail.template_refused"

    def __init__(self, field: str, message: str) -> None:
        DomainError.__init__(self, f"{field}: {message}", [FieldProblem(field, message)])


def one_line(text: str) -> str:
    """A header value: every run of whitespace (line breaks included) becomes one space."""
    return " ".join(text.split())


@lru_cache(maxsize=256)
def _compiled(html: bool, source: str) -> Template:
    """Compiling costs more than rendering: each template's source is compiled once."""
    return (_HTML if html else _PLAIN).from_string(source)


def _render(html: bool, field: str, source: str, context: Any) -> str:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRefused(field, f"is longer than {MAX_TEMPLATE_CHARS} characters")
    try:
        return _compiled(html, source).render(context)
    except TemplateError as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, TemplateSyntaxError) else ""
        raise TemplateRefused(field, f"does not render{where}: {exc.message or exc}") from exc
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        raise TemplateRefused(field, f"does not render: {type(exc).__name__}: {exc}") from exc


def render(template: Parts, context: dict[str, Any]) -> Parts:
    """The rendered subject (one line), HTML (escaped values) and text; `TemplateRefused` names
    the part that failed."""
    subject = one_line(_render(False, "subject", template.subject, context))
    if not subject:
        raise TemplateRefused("subject", "renders empty")
    return Parts(
        subject=subject[:MAX_SUBJECT_CHARS],
        html=_render(True, "html", template.html, context),
        text=_render(False, "text", template.text, context),
    )
