"""Event Grid topics for notifications (issue 26): promote publishes CloudEvents 1.0, which a topic takes only
with inputSchema CloudEventSchemaV1_0 (fixed when the topic is created). notify-access.bicep grants EventGrid
Data Sender and reads each topic's schema back; the deploy guide checks that output."""

from __future__ import annotations

from tests.infra.test_infra import BUILT_IN_ROLES, GUIDE, MODULES, bicep, role_assignments

NOTIFY = MODULES / "notify-access.bicep"


def test_the_module_reads_back_every_named_topics_input_schema():
    output = bicep(NOTIFY)["outputs"]["topicInputSchemas"]
    assert output["type"] == "array"
    loop = output["value"]
    assert loop["loop_type"]["detail"]["array_name"] == "topicNames"
    index, read = loop["config"]["inputSchema"]["operator"]["operands"].values()
    assert index["operator"]["operands"] == {
        "operand_1": "topics",
        "operand_2": loop["loop_type"]["detail"]["index_name"],
    }
    assert read["operator"]["operands"] == {"operand_1": "properties", "operand_2": "inputSchema"}
    assert bicep(NOTIFY)["resources"]["topics"]["existing"] is True  # read, never changed
    assert {role for _, role, _ in role_assignments(NOTIFY)} == {BUILT_IN_ROLES["EventGrid Data Sender"]}


def test_the_guide_creates_topics_for_cloudevents_and_checks_the_output():
    text = GUIDE.read_text()
    step = text[text.index("- [ ] Event Grid notifications") : text.index("## 5.")]
    assert "--input-schema cloudeventschemav1_0" in step and "inputSchema: CloudEventSchemaV1_0" in step
    assert "--query properties.outputs.topicInputSchemas" in step
    assert "must say `CloudEventSchemaV1_0`" in step
