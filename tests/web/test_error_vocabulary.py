"""One error vocabulary: every refusal a service raises is a ServiceError with a code and
an HTTP status, and one handler answers it: JSON for /api and htmx, the error page for
people."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from fastapi.testclient import TestClient

import app.services
from app.services.accounts import AccountError
from app.services.authoring import editor
from app.services.errors import ServiceError

# Exceptions in app/services that are not refusals to a person, or not yet converted.
NOT_REFUSALS = {
    "app.services.demo_queue_worker.WorkerError",  # a worker's crash, logged, never shown
    "app.services.authoring.paths.OutsideRoot",  # caught by the editor's path checks
}


def service_exceptions() -> list[type[BaseException]]:
    found = []
    for info in pkgutil.walk_packages(app.services.__path__, "app.services."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__ == info.name:
                found.append(obj)
    return found


def test_every_service_refusal_is_a_service_error_with_code_and_status() -> None:
    exceptions = service_exceptions()
    assert AccountError in exceptions and editor.Conflict in exceptions
    wrong = [
        f"{e.__module__}.{e.__qualname__}"
        for e in exceptions
        if f"{e.__module__}.{e.__qualname__}" not in NOT_REFUSALS
        and not issubclass(e, ServiceError)
    ]
    assert wrong == []
    for e in exceptions:
        if issubclass(e, ServiceError) and e is not ServiceError:
            assert e.code != ServiceError.code or e.__name__.endswith("Error"), e
            assert 400 <= e.status < 600, e


@pytest.fixture
def raising_client(app):  # type: ignore[no-untyped-def]
    def refuse() -> None:
        raise AccountError("That username is taken.", field="username")

    app.add_api_route("/api/test-refusal", refuse)
    app.add_api_route("/test-refusal", refuse)
    with TestClient(app) as client:
        yield client


def test_api_and_htmx_get_json_with_the_code(raising_client: TestClient) -> None:
    for path, headers in [("/api/test-refusal", {}), ("/test-refusal", {"HX-Request": "true"})]:
        response = raising_client.get(path, headers={"Accept": "text/html", **headers})
        assert response.status_code == 422
        assert response.json() == {
            "detail": {"code": "invalid_account", "message": "That username is taken."}
        }


def test_people_get_the_error_page_with_the_sentence(raising_client: TestClient) -> None:
    response = raising_client.get("/test-refusal", headers={"Accept": "text/html"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert "That username is taken." in response.text
