"""The Functions app: register each blueprint; nothing else happens at import time."""

import azure.functions as func

from functions.alerts import bp as alerts
from functions.board import bp as board
from functions.drift import bp as drift
from functions.events import bp as events
from functions.judge import bp as judge
from functions.migrate import bp as migrate
from functions.notifications import bp as notifications
from functions.overrides import bp as overrides
from functions.replication import bp as replication
from functions.status import bp as status

app = func.FunctionApp()
for blueprint in (events, alerts, status, drift, overrides, board, notifications, judge, replication, migrate):
    app.register_functions(blueprint)
