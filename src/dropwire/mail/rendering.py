"""Templates render in Jinja2's sandbox: a merchant's template reads the context it is given
and nothing else (no attributes of Python objects, no unsafe calls), and an unknown name is an
error rather than an empty string, so a typo is refused when the template is saved."""

from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from dropwire.core.errors import DomainError, FieldProblem

MAX_TEMPLATE_CHARS = 100_000
MAX_SUBJECT_CHARS = 250

_PLAIN = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class Parts:
    subject: str
    html: str
    text: str


class TemplateRefused(DomainError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", [FieldProblem(field, message)], 422)


def one_line(text: str) -> str:
    """A header value: every run of whitespace (line breaks included) becomes one space."""
    return " ".join(text.split())


def _render(environment: SandboxedEnvironment, field: str, source: str, context: Any) -> str:
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRefused(field, f"is longer than {MAX_TEMPLATE_CHARS} characters")
    try:
        return environment.from_string(source).render(context)
    except TemplateError as exc:
        where = f" (line {exc.lineno})" if isinstance(exc, TemplateSyntaxError) else ""
        raise TemplateRefused(field, f"does not render{where}: {exc.message or exc}") from exc
    except (ArithmeticError, TypeError, ValueError, LookupError, AttributeError) as exc:
        raise TemplateRefused(field, f"does not render: {type(exc).__name__}: {exc}") from exc


def render(template: Parts, context: dict[str, Any]) -> Parts:
    """The rendered subject (one line), HTML (escaped values) and text; `TemplateRefused` names
    the part that failed."""
    subject = one_line(_render(_PLAIN, "subject", template.subject, context))
    if not subject:
        raise TemplateRefused("subject", "renders empty")
    return Parts(
        subject=subject[:MAX_SUBJECT_CHARS],
        html=_render(_HTML, "html", template.html, context),
        text=_render(_PLAIN, "text", template.text, context),
    )
