"""RFC 9457 problem details (application/problem+json), naming the failing field."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://quotient.dev/problems/"


class Problem(Exception):
    """Raise anywhere in a request to answer with problem+json."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        kind: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.kind = kind or title.lower().replace(" ", "-")
        self.errors = errors
        self.headers = headers
        self.extra = extra

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def field_errors(
    exc: ValidationError | RequestValidationError, *, skip: int = 0
) -> list[dict[str, Any]]:
    """Pydantic errors as [{field: "amount.value", message: "..."}] (JSON-pointer-ish dotted)."""
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())][skip:]
        out.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    return out


def validation_problem(
    exc: ValidationError, *, skip: int = 0, title: str = "Invalid body"
) -> Problem:
    errors = field_errors(exc, skip=skip)
    fields = ", ".join(e["field"] for e in errors)
    return Problem(
        422, title, f"Invalid field(s): {fields}", kind="validation-error", errors=errors
    )


def invalid_field(field: str, message: str, **extra: Any) -> Problem:
    """A 422 naming one field: ``detail`` says "<field>: <message>", ``errors`` lists it."""
    return Problem(
        422,
        "Invalid request",
        f"{field}: {message}",
        kind="validation-error",
        errors=[{"field": field, "message": message}],
        **extra,
    )


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(str(request.url.path) if request else None),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = field_errors(exc)
        # "body.amount.value" reads better as "amount.value"
        for e in errors:
            for prefix in ("body.", "query.", "path.", "header."):
                if e["field"].startswith(prefix):
                    e["field"] = e["field"][len(prefix) :]
        fields = ", ".join(e["field"] for e in errors)
        return problem_response(
            Problem(
                422,
                "Invalid request",
                f"Invalid field(s): {fields}",
                kind="validation-error",
                errors=errors,
            ),
            request,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        title = {
            404: "Not found",
            405: "Method not allowed",
            401: "Unauthorized",
            403: "Forbidden",
        }.get(exc.status_code, "Error")
        return problem_response(
            Problem(
                exc.status_code,
                title,
                str(exc.detail) if exc.detail else None,
                headers=dict(exc.headers) if exc.headers else None,
            ),
            request,
        )

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
