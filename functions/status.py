"""HTTP trigger: the read-only status of one release (the same JSON as `promote status --json`)."""

import azure.functions as func

from functions._http import reply

bp = func.Blueprint()


@bp.function_name("status")
@bp.route(route="releases/{release}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def status(req: func.HttpRequest) -> func.HttpResponse:
    from shared.application.bootstrap import stack
    from shared.application.views import release_status
    from shared.domain.errors import UnknownRelease
    from shared.domain.names import is_name

    name = req.route_params.get("release", "")
    if not is_name(name):
        return reply(400, {"error": f"{name!r} is not a release name"})
    s = stack()
    try:
        return reply(200, release_status(s.store, s.judge_records, name, s.clock.now(), s.routing_progress))
    except UnknownRelease as exc:
        return reply(404, {"error": str(exc)})
