"""The reliability script's short form: every message accounted for, no divergence, under all faults."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_short_reliability_run_loses_nothing_and_diverges_nowhere():
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "reliability.py"), "--short"], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["lost"] == 0 and summary["divergences"] == 0
    # notifications (issue 14): a receiver down, slow and flaky loses none, and a re-sent one keeps its id
    assert summary["notifications_lost"] == 0 and summary["notification_divergences"] == 0
    assert summary["notifications_expected"] >= 4 * 4 * 4  # 4 releases x 4 workloads x (3 flights + promoted)
    assert summary["deliveries"] >= 150 and summary["dead_lettered"] >= 1
    figures = dict(re.findall(r"^\| ([^|]+?) +\| (\d+(?:\.\d+)?) \|$", done.stdout, re.M))
    assert int(figures["fault: host SIGKILLed at a random moment"]) >= 1
    assert int(figures["fault: storage stopped and restarted"]) == 1
    assert int(figures["notifications: refused by the receiver (retried)"]) >= 1
    assert int(figures["notifications: receiver down (phases)"]) == 2
    # the health judge's faults: Monitor errors and timeouts, judges killed mid-evaluation, judges at once
    assert summary["judged_twice"] == 0
    assert int(figures["judge: judge processes at once"]) >= 2
    assert int(figures["judge fault: Monitor read failed"]) + int(figures["judge fault: Monitor read timed out"]) >= 1
    assert int(figures["judge fault: SIGKILL after claim, before publish"]) >= 1
    assert int(figures["judge: promoted (healthy metrics)"]) >= 1
    assert int(figures["judge: rolled back by a failing check"]) >= 1
    # issue 22: a staged release of 30 workloads and a flight release of 16, in shards of 4, moved release-wide
    # (pause, resume, the staged promotion, rollback) while hosts die before a move's commit point, right after
    # it and in the middle of the shards' catch-up, and a reader reads them whole, by summaries and by shard
    assert summary["half_moved_reads"] == 0 and summary["scale_reads"] >= 30
    assert int(figures["scale: release-wide decisions committed"]) == 6
    at_moves = (
        "scale: fault: SIGKILL after routing, before the commit point",
        "scale: fault: SIGKILL after the commit point, before catch-up",
        "scale: fault: SIGKILL in the middle of the shards' catch-up",
    )
    assert sum(int(figures[name]) for name in at_moves) >= 1
    # v2 §8: a finalize phase (provider down at times, hosts killed after a power-off): each source off once
    assert int(figures["sources powered off (must equal workloads)"]) == 16  # 4 releases x 4 workloads
    assert int(figures["fault: decommission provider down (attempts recorded as failed)"]) >= 1
