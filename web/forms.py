"""Forms on the pages: the one validate-or-save pattern, the one shape of field errors, small value parsers.

A form posts twice over its life: on each field's `change` htmx posts it with `_validate=1` (inline validation)
and the page answers with the messages only — the template swaps each field's message slot, never the input
someone may be typing in (templates/inc/forms.html); on submit it posts for real and the page either saves and
redirects (post-redirect-get) or answers the form with every error at once.

    return await validate_or_save(request, form, users.create_user, data, password,
                                  show=lambda errors: _user_form(request, values=values, errors=errors),
                                  saved=lambda user: redirect_after_post(request, "/admin/users",
                                                                         flash_message=f"已新建用户 {user.username}。"))
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from domain.errors import Conflict, DomainError, InvalidInput, NotFound
from web.common import dry_run, run

__all__ = ["FORM_ERRORS", "field_errors", "is_validation", "only_triggering_field", "opt_int", "validate_or_save"]

# The domain errors a form answers itself (next to the fields); anything else is an error page.
FORM_ERRORS: tuple[type[DomainError], ...] = (InvalidInput, Conflict, NotFound)


def field_errors(exc: DomainError, *, strip: str = "", rename: Mapping[str, str] | None = None) -> dict[str, str]:
    """{form field: message} from a domain error (the first message per field; "_form" for the whole form).

    Domain errors carry snake_case field names; `strip` drops a prefix such as "thresholds.", `rename` maps a
    domain field to the form's input name where they differ.
    """
    out: dict[str, str] = {}
    for error in exc.errors:
        name = (error.field or "_form").removeprefix(strip) or "_form"
        name = (rename or {}).get(name, name)
        out.setdefault(name, error.message)
    return out


def is_validation(form: FormData) -> bool:
    """Whether this post only asks for inline validation (`_validate=1`), not a save."""
    return form.get("_validate") == "1"


def only_triggering_field(request: Request, errors: dict[str, str]) -> dict[str, str]:
    """Inline validation speaks about the field just left, not about fields the user has not reached yet."""
    trigger = request.headers.get("hx-trigger-name")
    return {k: v for k, v in errors.items() if k == trigger} if trigger else errors


def opt_int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


async def validate_or_save(request: Request, form: FormData, change: Callable[..., Any], *args: Any,
                           show: Callable[[dict[str, str]], Awaitable[Response]],
                           saved: Callable[[Any], Response | Awaitable[Response]],
                           extra_errors: Mapping[str, str] | None = None) -> Response:
    """Validate (dry run) or save `change(session, caller, *args)` and answer the form or the redirect.

    `extra_errors` are the form's own findings (two passwords that differ): they are shown together with the
    domain's, and while there are any nothing is saved.
    """
    extra = dict(extra_errors or {})
    validate_only = is_validation(form)
    try:
        if validate_only or extra:
            await dry_run(request, change, *args)
        else:
            result = await run(request, change, *args)
    except FORM_ERRORS as exc:
        errors = {**field_errors(exc), **extra}
        return await show(only_triggering_field(request, errors) if validate_only else errors)
    if validate_only or extra:
        return await show(only_triggering_field(request, extra) if validate_only else extra)
    answer = saved(result)
    return await answer if isinstance(answer, Awaitable) else answer
