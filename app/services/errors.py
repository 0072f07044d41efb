"""The one base for refusals a service hands back to a person or an API client."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal the learner should read. `code` is stable for API clients; `status` is the
    HTTP status a route answers with."""

    code = "service_error"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
