"""What a failed Azure Migrate job says (shared/adapters/migrate AzureMigrator status), against the local
Resource Manager: each distinct message of the job's errors once, from the service's and the provider's details
alike, in their order; and a failed machine whose item records no job."""

from __future__ import annotations

import pytest

from shared.adapters.migrate import AzureMigrator
from shared.domain.migration import MIGRATE, AzureMigrate, OpStatus
from tests.migrate.conftest import VAULT, vault, vault_settings  # noqa: F401  (fixtures)


@pytest.fixture
def migrator(vault, vault_settings):  # noqa: F811
    vault.add_machine(VAULT, "vm-web-01")
    return AzureMigrator(vault_settings)


def test_every_distinct_message_of_a_failed_job_is_said_once(vault, migrator):  # noqa: F811
    migrator.start(AzureMigrate("payroll", MIGRATE, VAULT, ("vm-web-01",), None, True))
    [job] = list(vault.jobs)
    vault.end_job(job, "Failed", "replaced below")
    vault.jobs[job]["properties"]["errors"] = [
        {"serviceErrorDetails": {"code": "A", "message": "The disk is busy"},
         "providerErrorDetails": {"errorMessage": "Snapshot could not be taken"}},
        {"serviceErrorDetails": {"code": "A", "message": "The disk is busy"}},
        {"providerErrorDetails": {"errorMessage": "The network is unreachable"}},
        {"serviceErrorDetails": None, "providerErrorDetails": None},
    ]  # fmt: skip
    assert migrator.status(VAULT, ("vm-web-01",), MIGRATE) == OpStatus(
        "failed",
        job,
        f"vm-web-01: job {job} failed: The disk is busy; Snapshot could not be taken; The network is unreachable",
    )


def test_a_failed_machine_without_a_job_says_so(vault, migrator):  # noqa: F811
    vault.add_machine(VAULT, "vm-old-01", state="MigrationFailed")
    assert migrator.status(VAULT, ("vm-old-01",), MIGRATE) == OpStatus("failed", None, "vm-old-01: no job recorded")
