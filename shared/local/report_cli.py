"""`promote report --release R | --wave W [--format text|html|csv|json] [-o FILE]` (contract §20): the figures
of a release, or of every release of a wave, from their history. Registers its command into the CLI."""

from __future__ import annotations

from pathlib import Path


def register(sub) -> dict:
    from shared.application.report_render import FORMATS

    report = sub.add_parser("report", help="durations, waits, rollbacks and approvals of a release or a wave")
    which = report.add_mutually_exclusive_group(required=True)
    which.add_argument("--release", help="the release (as applied)")
    which.add_argument("--wave", help="every release whose plan says `wave: NAME`")
    report.add_argument("--format", choices=FORMATS, default="text", help="text (default), html, csv or json")
    report.add_argument("-o", "--output", metavar="FILE", help="write the report to FILE instead of standard output")
    return {"report": cmd_report}


def cmd_report(args) -> int:
    from shared.application.report import ReleaseReport, WaveReport, release_report
    from shared.application.report_render import render
    from shared.local.common import UsageError, checked_stack

    store = checked_stack().store
    report: ReleaseReport | WaveReport
    if args.release is not None:
        release = store.get_release(args.release).release  # UnknownRelease -> exit 2
        report = release_report(release.plan, store.list_history(args.release), release.state)
    else:
        found = [store.get_release(name).release for name in store.list_releases()]
        members = [r for r in found if r.plan.wave == args.wave]
        if not members:
            raise UsageError(f"no release names wave {args.wave!r} in its plan")
        report = WaveReport(args.wave, [release_report(r.plan, store.list_history(r.name), r.state) for r in members])
    text = render(report, args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return 0
