"""HTTP trigger: the read-only status of one release (the same JSON as `promote status --json`)."""

import json

import azure.functions as func

bp = func.Blueprint()


@bp.function_name("status")
@bp.route(route="releases/{release}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def status(req: func.HttpRequest) -> func.HttpResponse:
    from shared.application.bootstrap import stack
    from shared.application.views import status_json
    from shared.domain.errors import UnknownRelease
    from shared.domain.names import is_name

    name = req.route_params.get("release", "")
    if not is_name(name):
        return func.HttpResponse(
            json.dumps({"error": f"{name!r} is not a release name"}), status_code=400, mimetype="application/json"
        )
    try:
        snapshot = stack().store.get_release(name)
    except UnknownRelease as exc:
        return func.HttpResponse(json.dumps({"error": str(exc)}), status_code=404, mimetype="application/json")
    s = stack()
    health = s.judge.records.load(name) if snapshot.release.plan.model == "flight" else {}  # as `promote status`
    return func.HttpResponse(
        json.dumps(status_json(snapshot.release, s.clock.now(), health)), mimetype="application/json"
    )
