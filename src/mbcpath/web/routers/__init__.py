"""One router per resource: the REST API under ``/api/v1`` and the clinician pages."""
