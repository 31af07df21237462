"""What a failed Azure Migrate job says when the job records no state and no error (shared/adapters/migrate
AzureMigrator._job_error), against the local Resource Manager: nothing in place of the state, and "no error given"."""

from __future__ import annotations

import pytest

from shared.adapters.migrate import AzureMigrator
from shared.domain.migration import MIGRATE, AzureMigrate, OpStatus
from tests.migrate.conftest import VAULT, vault, vault_settings  # noqa: F401  (fixtures)


@pytest.fixture
def migrator(vault, vault_settings):  # noqa: F811
    vault.add_machine(VAULT, "vm-web-01")
    return AzureMigrator(vault_settings)


def test_a_failed_job_without_state_or_errors_says_no_error_given(vault, migrator):  # noqa: F811
    migrator.start(AzureMigrate("payroll", MIGRATE, VAULT, ("vm-web-01",), None, True))
    [job] = list(vault.jobs)
    vault.end_job(job, "Failed", "replaced below")
    del vault.jobs[job]["properties"]["state"]
    vault.jobs[job]["properties"]["errors"] = []
    assert migrator.status(VAULT, ("vm-web-01",), MIGRATE) == OpStatus(
        "failed", job, f"vm-web-01: job {job} : no error given"
    )
